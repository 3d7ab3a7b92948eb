/* SPDX-License-Identifier: MIT */
/* The flame graph: an icicle of the selection's call tree, on a canvas.
 */
  // ---------------------------------------------------------- flame graph

  const ROW = 18;
  const MIN_FRAME = 0.35; // frames narrower than this many pixels are not drawn
  const ANCESTORS_SHOWN = 12; // callers of the zoomed frame shown above it, besides the root

  // x offsets and widths of every node for one measure: children sorted by
  // value, widest first; a child never overflows its parent
  function layout(tree, measure) {
    const key = tree.before ? measure + ":" + state.widths : measure;
    let lay = tree.layouts.get(key);
    if (lay) return lay;
    const n = tree.n;
    const val = new Float64Array(n);
    for (let i = 1; i < n; i++) val[i] = Math.max(0, tree.value(measure, i));
    const { start, list } = tree.kids();
    const order = list.slice();
    for (let p = 0; p < n; p++) {
      const a = start[p], b = start[p + 1];
      if (b - a > 1) {
        const seg = Array.from(order.subarray(a, b));
        seg.sort((u, v) => val[v] - val[u] || u - v);
        order.set(seg, a);
      }
    }
    const x = new Float64Array(n);
    const w = new Float64Array(n);
    let total = 0;
    for (let k = start[0]; k < start[1]; k++) total += val[order[k]];
    w[0] = total;
    val[0] = total;
    for (let p = 0; p < n; p++) {
      const a = start[p], b = start[p + 1];
      if (a === b) continue;
      const scaleP = val[p] > 0 ? w[p] / val[p] : 0;
      let sum = 0;
      for (let k = a; k < b; k++) sum += val[order[k]] * scaleP;
      const fit = sum > w[p] && sum > 0 ? w[p] / sum : 1;
      let cursor = x[p];
      for (let k = a; k < b; k++) {
        const c = order[k];
        w[c] = val[order[k]] * scaleP * fit;
        x[c] = cursor;
        cursor += w[c];
      }
    }
    lay = { x, w, order, total };
    tree.layouts.set(key, lay);
    return lay;
  }

  const flameView = {
    built: false,
    dirty: true,
    zoom: 0,
    frames: [], // what the last draw showed
    rows: [], // frames by depth row, for hit testing
    canvas: document.getElementById("flame-canvas"),

    reset() {
      this.zoom = 0;
    },
    invalidate() {
      this.dirty = true;
      if (this.built) scheduleDraw(this);
    },
    ensure() {
      if (!this.built) {
        this.built = true;
        this.bind();
      }
      if (this.dirty) this.draw();
    },
    bind() {
      const c = this.canvas;
      c.addEventListener("mousemove", (ev) => this.hover(ev));
      c.addEventListener("mouseleave", hideTooltip);
      c.addEventListener("click", (ev) => {
        const fr = this.hit(ev);
        if (fr && fr.node === -2) return this.zoomTo(fr.target);
        if (!fr || fr.node < 0) return;
        if (fr.node === this.zoom) this.zoomTo(fr.node === 0 ? 0 : this.tree().parent[fr.node]);
        else this.zoomTo(fr.node);
      });
      document.addEventListener("keydown", (ev) => {
        if (ev.key === "Escape" && document.activeElement !== document.getElementById("search")) {
          this.zoomTo(0);
        }
      });
    },
    tree() {
      return selectionTree(state.selection);
    },
    zoomTo(node) {
      this.zoom = Math.max(0, node | 0);
      this.dirty = true;
      this.draw();
    },
    draw() {
      this.dirty = false;
      const tree = this.tree();
      const measure = state.measure;
      const lay = layout(tree, measure);
      if (this.zoom >= tree.n || (this.zoom > 0 && !(lay.w[this.zoom] > 0))) this.zoom = 0;
      const z = this.zoom;
      const box = document.getElementById("flame-box");
      const width = Math.max(200, box.clientWidth);
      let frames = [];
      // the zoomed frame's ancestors, full width
      const path = [];
      for (let a = z; a > 0; a = tree.parent[a]) path.push(a);
      path.push(0);
      path.reverse();
      // a long path keeps the root and the nearest ancestors, the others in one row
      let shown = path.slice(0, -1);
      if (shown.length > ANCESTORS_SHOWN + 2) {
        const hidden = shown.length - 1 - ANCESTORS_SHOWN;
        shown = [shown[0], { hidden, target: shown[hidden] }, ...shown.slice(-ANCESTORS_SHOWN)];
      }
      shown.forEach((a, d) => {
        if (typeof a === "number") frames.push({ node: a, x: 0, w: width, depth: d, ancestor: true });
        else frames.push({ node: -2, count: a.hidden, target: a.target, x: 0, w: width, depth: d, ancestor: true });
      });
      const scale = lay.w[z] > 0 ? width / lay.w[z] : 0;
      const x0 = lay.x[z];
      const base = shown.length - tree.depth[z];
      const { start } = tree.kids();
      const order = lay.order;
      const stack = [z];
      let maxDepth = path.length - 1;
      while (stack.length) {
        const i = stack.pop();
        const pw = i === z ? width : lay.w[i] * scale;
        const depth = tree.depth[i] + base;
        frames.push({ node: i, x: i === z ? 0 : (lay.x[i] - x0) * scale, w: pw, depth, ancestor: false });
        if (depth > maxDepth) maxDepth = depth;
        // children widest first: those too narrow to draw are the tail, drawn as one block
        let k = start[i], sum = 0, small = 0;
        for (; k < start[i + 1] && lay.w[order[k]] * scale >= MIN_FRAME; k++);
        const firstSmall = k;
        for (; k < start[i + 1]; k++) {
          sum += lay.w[order[k]];
          small++;
        }
        if (small && sum * scale >= MIN_FRAME) {
          const x = (lay.x[order[firstSmall]] - x0) * scale;
          frames.push({ node: -1, parent: i, count: small, value: sum, x, w: sum * scale, depth: depth + 1, ancestor: false });
          if (depth + 1 > maxDepth) maxDepth = depth + 1;
        }
        for (let k2 = firstSmall - 1; k2 >= start[i]; k2--) stack.push(order[k2]);
      }
      // a canvas taller than about 32,000 device pixels stays blank: draw fewer rows
      const maxRows = Math.floor(30000 / ((window.devicePixelRatio || 1) * ROW));
      this.cut = maxDepth >= maxRows;
      if (this.cut) {
        maxDepth = maxRows - 1;
        frames = frames.filter((fr) => fr.depth <= maxDepth);
      }
      const height = (maxDepth + 1) * ROW + 2;
      const ctx = setupCanvas(this.canvas, width, height);
      ctx.clearRect(0, 0, width, height);
      const matcher = state.matcher;
      const rows = [];
      for (const fr of frames) {
        const i = fr.node, f = i >= 0 ? tree.func[i] : -1;
        const y = fr.depth * ROW;
        fr.y = y;
        fr.h = ROW - 1;
        fr.match = !!(matcher && i > 0 && matcher(f));
        (rows[fr.depth] || (rows[fr.depth] = [])).push(fr);
        let fill;
        if (i === -2) fill = "#e3e5e9";
        else if (i < 0) fill = "#c6cad1";
        else if (i === 0) fill = "#b9bec7";
        else if (matcher) fill = fr.match ? HL : dimColor(f);
        else fill = tree.before ? diffColor(tree, i, measure) : funcColor(f);
        ctx.globalAlpha = fr.ancestor ? 0.55 : 1;
        ctx.fillStyle = fill;
        const w = Math.max(fr.w - (fr.w > 3 ? 1 : 0), 0.5);
        ctx.fillRect(fr.x, y, w, ROW - 1);
        if (fr.w > 22) {
          const label = i === -2 ? "\u22ef " + fr.count + " more callers \u22ef"
            : i < 0 ? fr.count + " small frames"
            : i === 0 ? tree.name + (lay.total ? "" : " (no " + MEASURES[measure] + " time)") : FLABEL[f];
          const text = fitText(ctx, oneLine(label), fr.w - 8);
          if (text) {
            ctx.fillStyle = fr.match ? "#fff" : "#1d1f21";
            ctx.fillText(text, fr.x + 4, y + ROW / 2);
          }
        }
      }
      ctx.globalAlpha = 1;
      for (const r of rows) if (r) r.sort((a, b) => a.x - b.x);
      this.frames = frames;
      this.rows = rows;
      this.renderCrumbs(tree, path);
      document.getElementById("flame-title").textContent =
        "\u2014 " + tree.name + ", " + MEASURES[measure] + " time " + fmtTicks(lay.total);
    },
    renderCrumbs(tree, path) {
      const crumbs = document.getElementById("flame-crumbs");
      const cut = this.cut ? " Frames deeper than the first rows are not drawn: zoom in to see them." : "";
      if (path.length <= 1) {
        crumbs.replaceChildren("Showing the whole tree. Click a frame to zoom in." + cut);
        return;
      }
      const parts = [];
      path.forEach((node, k) => {
        if (k) parts.push(" \u203a ");
        const label = node === 0 ? tree.name : FLABEL[tree.func[node]];
        if (k === path.length - 1) parts.push(el("b", { text: label }));
        else parts.push(el("a", { text: label, onclick: () => this.zoomTo(node) }));
      });
      if (cut) parts.push(cut);
      crumbs.replaceChildren(...parts);
    },
    hit(ev) {
      const r = this.canvas.getBoundingClientRect();
      const x = ev.clientX - r.left, y = ev.clientY - r.top;
      const row = this.rows[Math.floor(y / ROW)];
      if (!row) return null;
      for (const fr of row) if (x >= fr.x && x < fr.x + Math.max(fr.w, 1)) return fr;
      return null;
    },
    hover(ev) {
      const fr = this.hit(ev);
      if (!fr) return hideTooltip();
      if (fr.node === -2) {
        return showTooltip(ev, [el("div", { text: fr.count + " callers not shown; click to zoom out to the nearest of them" })]);
      }
      if (fr.node < 0) {
        const tree = this.tree();
        const total = rootTotal(tree, state.measure);
        return showTooltip(ev, [
          el("div", { class: "t", text: fr.count + " frames too narrow to draw" }),
          el("div", { class: "f", text: "callees of " + (fr.parent === 0 ? tree.name : FLABEL[tree.func[fr.parent]]) + "; zoom in to see them" }),
          el("div", { text: fmtTicks(fr.value) + " of " + MEASURES[state.measure] + " time, " + fmtPct(total ? fr.value / total : NaN) }),
        ]);
      }
      showTooltip(ev, frameDetails(this.tree(), fr.node));
    },
    visibleFrames() {
      this.ensure();
      const r = this.canvas.getBoundingClientRect();
      const tree = this.tree();
      return this.frames.map((fr) => ({
        node: fr.node,
        name: fr.node < 0 ? null : fr.node === 0 ? tree.name : FLABEL[tree.func[fr.node]],
        file: fr.node <= 0 ? "" : FFILE[tree.func[fr.node]],
        line: fr.node <= 0 ? 0 : FLINE[tree.func[fr.node]],
        depth: fr.depth,
        ancestor: fr.ancestor,
        match: fr.match,
        x: r.left + fr.x,
        y: r.top + fr.y,
        width: fr.w,
        height: fr.h,
      }));
    },
  };

  function frameDetails(tree, i) {
    const m = state.measure;
    const total = rootTotal(tree, m);
    if (i === 0) {
      const rows = [["", "total"], ["wall", fmtTicks(rootTotal(tree, "wall"))]];
      if (HAS_CPU) {
        rows.push(["CPU", fmtTicks(rootTotal(tree, "cpu"))]);
        rows.push(["off-CPU", fmtTicks(rootTotal(tree, "off"))]);
      }
      return [el("div", { class: "t", text: tree.name }), el("div", { class: "f", text: "the whole selection; click to zoom out" }), timesTable(rows)];
    }
    const f = tree.func[i];
    const prim = tree.prim[i];
    const calls = tree.calls[i];
    const rows = [["", "total", "self"], ["wall", fmtTicks(tree.wall[i]), fmtTicks(tree.wallSelf[i])]];
    if (HAS_CPU) {
      rows.push(["CPU", fmtTicks(tree.cpu[i]), fmtTicks(tree.cpuSelf[i])]);
      rows.push(["off-CPU", fmtTicks(tree.wall[i] - tree.cpu[i]), fmtTicks(tree.wallSelf[i] - tree.cpuSelf[i])]);
    }
    if (tree.before) {
      return [el("div", { class: "t", text: FLABEL[f] }), el("div", { class: "f", text: where(f) }), diffTable(tree, i)];
    }
    return [
      el("div", { class: "t", text: FLABEL[f] }),
      el("div", { class: "f", text: where(f) }),
      el("div", { text: "calls " + fmtInt(calls) + (prim !== calls ? " (" + fmtInt(prim) + " primitive)" : "") }),
      timesTable(rows),
      el("div", { text: fmtPct(total ? tree.value(m, i) / total : NaN) + " of " + MEASURES[m] + " time in " + tree.name }),
    ];
  }
