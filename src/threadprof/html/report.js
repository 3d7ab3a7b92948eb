/* SPDX-License-Identifier: MIT */
/* threadprof's HTML report: the page script, inlined into every report.
 *
 * It reads the profile that html_report.py embeds as JSON (see that module's
 * docstring for the layout) and builds three views, each when it is first
 * shown: a threads overview (lifetimes and timelines on one time axis, on a
 * canvas that draws only the rows and slices in view), a flame graph (an
 * icicle on a canvas, of one thread or of several merged) and a function
 * table with callers and callees. Everything the page shows comes from the
 * embedded data through textContent or canvas text, never through HTML
 * parsing, so no name can break the page.
 *
 * window.threadprof exposes the state and a few actions for tests and for
 * scripting the page from the console.
 */
(function () {
  "use strict";

  const errors = [];
  window.addEventListener("error", (e) => errors.push(String(e.message || e)));
  window.addEventListener("unhandledrejection", (e) => errors.push(String(e.reason)));

  const DATA = JSON.parse(document.getElementById("threadprof-data").textContent);
  const UNIT = DATA.unit || 1e-9;
  const HAS_CPU = DATA.cpu_mode !== "none";
  const MEASURES = { wall: "wall", cpu: "CPU", off: "off-CPU" };
  const STRIDE = 7; // values per node in a thread's "nodes" array

  // ---------------------------------------------------------------- helpers

  function el(tag, attrs, ...kids) {
    const node = document.createElement(tag);
    if (attrs) {
      for (const [k, v] of Object.entries(attrs)) {
        if (v === undefined || v === null || v === false) continue;
        if (k === "class") node.className = v;
        else if (k === "text") node.textContent = v;
        else if (k.startsWith("on")) node.addEventListener(k.slice(2), v);
        else node.setAttribute(k, v === true ? "" : v);
      }
    }
    for (const kid of kids) {
      if (kid === null || kid === undefined || kid === false) continue;
      node.append(kid instanceof Node ? kid : String(kid));
    }
    return node;
  }

  function fmtSeconds(s) {
    const a = Math.abs(s);
    if (a === 0) return "0";
    if (a >= 100) return s.toFixed(0) + " s";
    if (a >= 1) return s.toPrecision(3) + " s";
    if (a >= 1e-3) return (s * 1e3).toPrecision(3) + " ms";
    if (a >= 1e-6) return (s * 1e6).toPrecision(3) + " \u00b5s";
    return (s * 1e9).toPrecision(3) + " ns";
  }
  const fmtTicks = (t) => fmtSeconds(t * UNIT);
  const fmtInt = (n) => Math.round(n).toLocaleString("en-US");
  const fmtPct = (x) => (isFinite(x) ? (x * 100).toFixed(1) + "%" : "\u2013");
  // canvas text is one line: show line breaks as a visible mark
  const oneLine = (s) => s.replace(/\r\n|[\n\r\u000b\u000c\u0085\u2028\u2029]/g, "\u21b5");

  function debounce(fn, ms) {
    let timer = 0;
    return (...args) => {
      clearTimeout(timer);
      timer = setTimeout(() => fn(...args), ms);
    };
  }

  function setupCanvas(canvas, width, height) {
    const dpr = window.devicePixelRatio || 1;
    const w = Math.max(1, Math.floor(width));
    const h = Math.max(1, Math.floor(height));
    if (canvas.width !== Math.floor(w * dpr) || canvas.height !== Math.floor(h * dpr)) {
      canvas.width = Math.floor(w * dpr);
      canvas.height = Math.floor(h * dpr);
    }
    canvas.style.width = w + "px";
    canvas.style.height = h + "px";
    const ctx = canvas.getContext("2d");
    ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
    ctx.font = "12px system-ui, -apple-system, 'Segoe UI', 'DejaVu Sans', sans-serif";
    ctx.textBaseline = "middle";
    return ctx;
  }

  // the widest prefix of `text` that fits in `width` pixels (approximate, fast)
  let charWidth = 0;
  function fitText(ctx, text, width) {
    if (!charWidth) charWidth = ctx.measureText("abcdefghijklmnopqrstuvwxyzABCDEFGH").width / 34;
    const max = Math.floor(width / charWidth);
    if (max < 2) return "";
    if (text.length <= max) return text;
    return text.slice(0, max - 1) + "\u2026";
  }

  // ------------------------------------------------------------ functions

  const NF = DATA.funcs.length / 4;
  const FKIND = new Uint8Array(NF);
  const FLABEL = new Array(NF);
  const FFILE = new Array(NF);
  const FLINE = new Int32Array(NF);
  for (let i = 0; i < NF; i++) {
    FKIND[i] = DATA.funcs[4 * i];
    FLABEL[i] = DATA.funcs[4 * i + 1];
    FFILE[i] = DATA.files[DATA.funcs[4 * i + 2]];
    FLINE[i] = DATA.funcs[4 * i + 3];
  }
  const FDRAW = FLABEL.map(oneLine);
  const where = (f) => (FKIND[f] === 1 ? "built-in (C)" : FFILE[f] + ":" + FLINE[f]);

  function hashString(s) {
    let h = 2166136261;
    for (let i = 0; i < s.length; i++) {
      h ^= s.charCodeAt(i);
      h = Math.imul(h, 16777619);
    }
    return h >>> 0;
  }
  const colorCache = new Map();
  function funcColor(f) {
    let c = colorCache.get(f);
    if (c === undefined) {
      const h = hashString(FLABEL[f]);
      if (FKIND[f] === 1) {
        c = "hsl(" + (195 + (h % 40)) + ",45%," + (68 + ((h >>> 8) % 12)) + "%)";
      } else {
        c = "hsl(" + (8 + (h % 42)) + "," + (70 + ((h >>> 8) % 20)) + "%," + (58 + ((h >>> 16) % 14)) + "%)";
      }
      colorCache.set(f, c);
    }
    return c;
  }
  function dimColor(f) {
    const h = hashString(FLABEL[f]);
    return "hsl(0,0%," + (84 + (h % 8)) + "%)";
  }
  const HL = "#d946ef";

  // --------------------------------------------------------------- threads

  const THREADS = DATA.threads;
  const GROUPS = DATA.groups.map((pattern) => ({ pattern, members: [] }));
  THREADS.forEach((t, i) => GROUPS[t.group].members.push(i));

  function threadCalls(ti) {
    const nodes = THREADS[ti].nodes;
    let n = 0;
    for (let i = 2; i < nodes.length; i += STRIDE) n += nodes[i];
    return n;
  }

  // A call tree: typed arrays indexed by node, the virtual root at 0, every
  // parent before its children.
  class Tree {
    constructor(n, name) {
      this.n = n;
      this.name = name;
      this.parent = new Int32Array(n);
      this.func = new Int32Array(n);
      this.depth = new Int32Array(n);
      this.calls = new Float64Array(n);
      this.wall = new Float64Array(n);
      this.wallSelf = new Float64Array(n);
      this.cpu = new Float64Array(n);
      this.cpuSelf = new Float64Array(n);
      this.parent[0] = -1;
      this.func[0] = -1;
      this._kids = null;
      this._prim = null;
      this.layouts = new Map();
    }
    // children of each node, in node order: kids.list[kids.start[i] .. kids.start[i+1])
    kids() {
      if (this._kids) return this._kids;
      const n = this.n;
      const start = new Int32Array(n + 1);
      for (let i = 1; i < n; i++) start[this.parent[i] + 1]++;
      for (let i = 0; i < n; i++) start[i + 1] += start[i];
      const fill = start.slice(0, n);
      const list = new Int32Array(Math.max(0, n - 1));
      for (let i = 1; i < n; i++) list[fill[this.parent[i]]++] = i;
      this._kids = { start, list };
      return this._kids;
    }
    // primitive calls: a node's calls unless an ancestor runs the same function
    prim() {
      if (this._prim) return this._prim;
      const prim = new Float64Array(this.n);
      const active = new Int32Array(NF);
      const { start, list } = this.kids();
      const stack = [];
      for (let k = start[1] - 1; k >= start[0]; k--) stack.push(list[k]);
      while (stack.length) {
        const v = stack.pop();
        if (v < 0) {
          active[this.func[~v]]--;
          continue;
        }
        const f = this.func[v];
        prim[v] = active[f] === 0 ? this.calls[v] : 0;
        active[f]++;
        stack.push(~v);
        for (let k = start[v + 1] - 1; k >= start[v]; k--) stack.push(list[k]);
      }
      this._prim = prim;
      return prim;
    }
    value(measure, i) {
      if (measure === "cpu") return this.cpu[i];
      if (measure === "off") return Math.max(0, this.wall[i] - this.cpu[i]);
      return this.wall[i];
    }
    selfValue(measure, i) {
      if (measure === "cpu") return this.cpuSelf[i];
      if (measure === "off") return this.wallSelf[i] - this.cpuSelf[i];
      return this.wallSelf[i];
    }
  }

  const threadTrees = new Map();
  function threadTree(ti) {
    let tree = threadTrees.get(ti);
    if (tree) return tree;
    const t = THREADS[ti];
    const nodes = t.nodes;
    const n = nodes.length / STRIDE + 1;
    tree = new Tree(n, t.name);
    tree.wall[0] = t.root[0];
    tree.wallSelf[0] = t.root[1];
    tree.cpu[0] = t.root[2];
    tree.cpuSelf[0] = t.root[3];
    for (let i = 1, o = 0; i < n; i++, o += STRIDE) {
      const p = i - nodes[o];
      tree.parent[i] = p;
      tree.depth[i] = tree.depth[p] + 1;
      tree.func[i] = nodes[o + 1];
      tree.calls[i] = nodes[o + 2];
      tree.wall[i] = nodes[o + 3];
      tree.wallSelf[i] = nodes[o + 4];
      tree.cpu[i] = nodes[o + 5];
      tree.cpuSelf[i] = nodes[o + 6];
    }
    threadTrees.set(ti, tree);
    return tree;
  }

  // Unite the trees of several threads by path from the root (Snapshot.merged()).
  function mergeTrees(indices, name) {
    const parent = [-1], func = [-1];
    const calls = [0], wall = [0], wallSelf = [0], cpu = [0], cpuSelf = [0];
    const index = new Map();
    for (const ti of indices) {
      const t = threadTree(ti);
      const remap = new Int32Array(t.n);
      wall[0] += t.wall[0];
      wallSelf[0] += t.wallSelf[0];
      cpu[0] += t.cpu[0];
      cpuSelf[0] += t.cpuSelf[0];
      for (let i = 1; i < t.n; i++) {
        const p = remap[t.parent[i]];
        const key = p * NF + t.func[i];
        let m = index.get(key);
        if (m === undefined) {
          m = parent.length;
          index.set(key, m);
          parent.push(p);
          func.push(t.func[i]);
          calls.push(0); wall.push(0); wallSelf.push(0); cpu.push(0); cpuSelf.push(0);
        }
        calls[m] += t.calls[i];
        wall[m] += t.wall[i];
        wallSelf[m] += t.wallSelf[i];
        cpu[m] += t.cpu[i];
        cpuSelf[m] += t.cpuSelf[i];
        remap[i] = m;
      }
    }
    const tree = new Tree(parent.length, name);
    for (let i = 0; i < parent.length; i++) {
      tree.parent[i] = parent[i];
      tree.func[i] = func[i];
      tree.depth[i] = i ? tree.depth[parent[i]] + 1 : 0;
      tree.calls[i] = calls[i];
      tree.wall[i] = wall[i];
      tree.wallSelf[i] = wallSelf[i];
      tree.cpu[i] = cpu[i];
      tree.cpuSelf[i] = cpuSelf[i];
    }
    return tree;
  }

  // ------------------------------------------------------------- selection

  // "all", "g:<group>" or "t:<thread>"
  function selectionThreads(key) {
    if (key === "all") return THREADS.map((_, i) => i);
    if (key.startsWith("g:")) return GROUPS[+key.slice(2)].members.slice();
    return [+key.slice(2)];
  }
  function selectionName(key) {
    if (key === "all") return "all threads";
    if (key.startsWith("g:")) {
      const g = GROUPS[+key.slice(2)];
      return g.pattern + " (" + g.members.length + " threads)";
    }
    return THREADS[+key.slice(2)].name;
  }
  const mergedTrees = new Map();
  function selectionTree(key) {
    if (key.startsWith("t:")) return threadTree(+key.slice(2));
    let tree = mergedTrees.get(key);
    if (!tree) {
      tree = mergeTrees(selectionThreads(key), selectionName(key));
      mergedTrees.set(key, tree);
    }
    return tree;
  }

  // cProfile's per-function totals over the selected threads (Snapshot.function_stats)
  const statsCache = new Map();
  function functionStats(key) {
    let s = statsCache.get(key);
    if (s) return s;
    s = {
      present: new Uint8Array(NF),
      calls: new Float64Array(NF),
      prim: new Float64Array(NF),
      wall: new Float64Array(NF),
      wallSelf: new Float64Array(NF),
      cpu: new Float64Array(NF),
      cpuSelf: new Float64Array(NF),
    };
    const active = new Int32Array(NF);
    for (const ti of selectionThreads(key)) {
      const t = threadTree(ti);
      const stack = [];
      const leaveTo = (p) => {
        while (stack.length && stack[stack.length - 1] !== p) active[t.func[stack.pop()]]--;
      };
      for (let i = 1; i < t.n; i++) {
        leaveTo(t.parent[i]);
        const f = t.func[i];
        s.present[f] = 1;
        s.calls[f] += t.calls[i];
        s.wallSelf[f] += t.wallSelf[i];
        s.cpuSelf[f] += t.cpuSelf[i];
        if (active[f] === 0) {
          s.prim[f] += t.calls[i];
          s.wall[f] += t.wall[i];
          s.cpu[f] += t.cpu[i];
        }
        active[f]++;
        stack.push(i);
      }
      leaveTo(-2);
    }
    statsCache.set(key, s);
    return s;
  }

  // caller -> callee totals for the edges into and out of function `f`
  function edgeStats(key, f) {
    const edges = new Map(); // "caller,callee" -> totals
    for (const ti of selectionThreads(key)) {
      const t = threadTree(ti);
      const active = new Map();
      const stack = [];
      const edgeKey = (i) => t.func[t.parent[i]] + "," + t.func[i];
      const relevant = (i) => t.parent[i] > 0 && (t.func[i] === f || t.func[t.parent[i]] === f);
      const leaveTo = (p) => {
        while (stack.length && stack[stack.length - 1] !== p) {
          const v = stack.pop();
          if (relevant(v)) {
            const k = edgeKey(v);
            active.set(k, active.get(k) - 1);
          }
        }
      };
      for (let i = 1; i < t.n; i++) {
        leaveTo(t.parent[i]);
        stack.push(i);
        if (!relevant(i)) continue;
        const k = edgeKey(i);
        let e = edges.get(k);
        if (!e) {
          e = { caller: t.func[t.parent[i]], callee: t.func[i], calls: 0, prim: 0, wall: 0, wallSelf: 0, cpu: 0, cpuSelf: 0 };
          edges.set(k, e);
        }
        e.calls += t.calls[i];
        e.wallSelf += t.wallSelf[i];
        e.cpuSelf += t.cpuSelf[i];
        if (!active.get(k)) {
          e.prim += t.calls[i];
          e.wall += t.wall[i];
          e.cpu += t.cpu[i];
        }
        active.set(k, (active.get(k) || 0) + 1);
      }
    }
    const callers = [], callees = [];
    for (const e of edges.values()) {
      if (e.callee === f) callers.push(e);
      if (e.caller === f) callees.push(e);
    }
    return { callers, callees };
  }

  // ----------------------------------------------------------------- state

  const state = {
    selection: "all",
    measure: DATA.clock === "cpu" && HAS_CPU ? "cpu" : "wall",
    search: "",
    matcher: null, // function index -> bool, or null
    matchCache: null,
    selectedFunc: -1,
  };

  function setSearch(text) {
    state.search = text;
    state.matchCache = null;
    state.matcher = null;
    const q = text.trim();
    if (q) {
      let test;
      const re = /^\/(.+)\/$/.exec(q);
      if (re) {
        try {
          const rx = new RegExp(re[1], "i");
          test = (s) => rx.test(s);
        } catch (e) {
          test = null;
        }
      }
      if (!test) {
        const needle = q.toLowerCase();
        test = (s) => s.toLowerCase().includes(needle);
      }
      const cache = new Uint8Array(NF);
      for (let f = 0; f < NF; f++) cache[f] = test(FLABEL[f]) ? 1 : 0;
      state.matchCache = cache;
      state.matcher = (f) => f >= 0 && cache[f] === 1;
    }
    const input = document.getElementById("search");
    if (input.value !== text) input.value = text;
    refresh();
  }

  function setMeasure(m) {
    if (!MEASURES[m] || (!HAS_CPU && m !== "wall")) return;
    state.measure = m;
    for (const b of document.querySelectorAll("#measure button")) {
      b.setAttribute("aria-pressed", String(b.dataset.measure === m));
    }
    functionsView.sortByMeasure();
    refresh();
  }

  function select(key) {
    const m = /^([gt]):(\d+)$/.exec(key);
    if (key !== "all" && !(m && +m[2] < (m[1] === "g" ? GROUPS : THREADS).length)) return;
    state.selection = key;
    document.getElementById("thread-select").value = key;
    flameView.reset();
    refresh();
  }

  function refresh() {
    flameView.invalidate();
    functionsView.invalidate();
    threadsView.invalidate();
    updateSearchInfo();
  }

  function updateSearchInfo() {
    const info = document.getElementById("search-info");
    if (!state.matcher) {
      info.textContent = "";
      return;
    }
    let n = 0;
    for (let f = 0; f < NF; f++) n += state.matchCache[f];
    const tree = selectionTree(state.selection);
    const share = matchedShare(tree, state.measure);
    info.textContent = n + (n === 1 ? " function matches" : " functions match") +
      " \u00b7 " + fmtPct(share) + " of " + MEASURES[state.measure] + " time in " + tree.name;
  }

  // the share of the root's value spent in matching frames (nested matches counted once)
  function matchedShare(tree, measure) {
    const total = rootTotal(tree, measure);
    if (!total || !state.matcher) return 0;
    const under = new Uint8Array(tree.n);
    let sum = 0;
    for (let i = 1; i < tree.n; i++) {
      const p = tree.parent[i];
      if (under[p]) {
        under[i] = 1;
      } else if (state.matcher(tree.func[i])) {
        under[i] = 1;
        sum += tree.value(measure, i);
      }
    }
    return sum / total;
  }

  function rootTotal(tree, measure) {
    const { start, list } = tree.kids();
    let s = 0;
    for (let k = start[0]; k < start[1]; k++) s += tree.value(measure, list[k]);
    return s;
  }

  // -------------------------------------------------------------- tooltip

  const tooltip = document.getElementById("tooltip");
  function showTooltip(ev, content) {
    tooltip.replaceChildren(...content);
    tooltip.hidden = false;
    const pad = 14;
    const r = tooltip.getBoundingClientRect();
    let x = ev.clientX + pad, y = ev.clientY + pad;
    if (x + r.width > window.innerWidth - 4) x = Math.max(4, ev.clientX - r.width - pad);
    if (y + r.height > window.innerHeight - 4) y = Math.max(4, ev.clientY - r.height - pad);
    tooltip.style.left = x + "px";
    tooltip.style.top = y + "px";
  }
  function hideTooltip() {
    tooltip.hidden = true;
  }
  function timesTable(rows) {
    const table = el("table");
    for (const r of rows) table.append(el("tr", null, ...r.map((c) => el("td", { text: c }))));
    return table;
  }

  // ---------------------------------------------------------- flame graph

  const ROW = 18;
  const MIN_FRAME = 0.35; // frames narrower than this many pixels are not drawn
  const ANCESTORS_SHOWN = 12; // callers of the zoomed frame shown above it, besides the root

  // x offsets and widths of every node for one measure: children sorted by
  // value, widest first; a child never overflows its parent
  function layout(tree, measure) {
    let lay = tree.layouts.get(measure);
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
    tree.layouts.set(measure, lay);
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
        else fill = funcColor(f);
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
    const prim = tree.prim()[i];
    const calls = tree.calls[i];
    const rows = [["", "total", "self"], ["wall", fmtTicks(tree.wall[i]), fmtTicks(tree.wallSelf[i])]];
    if (HAS_CPU) {
      rows.push(["CPU", fmtTicks(tree.cpu[i]), fmtTicks(tree.cpuSelf[i])]);
      rows.push(["off-CPU", fmtTicks(tree.wall[i] - tree.cpu[i]), fmtTicks(tree.wallSelf[i] - tree.cpuSelf[i])]);
    }
    return [
      el("div", { class: "t", text: FLABEL[f] }),
      el("div", { class: "f", text: where(f) }),
      el("div", { text: "calls " + fmtInt(calls) + (prim !== calls ? " (" + fmtInt(prim) + " primitive)" : "") }),
      timesTable(rows),
      el("div", { text: fmtPct(total ? tree.value(m, i) / total : NaN) + " of " + MEASURES[m] + " time in " + tree.name }),
    ];
  }

  // ------------------------------------------------------- threads overview

  const RULER = 24;
  const LABEL_W = 320;
  const HEAD = 20; // a thread's or group's own line
  const LANE = 12; // one stack depth of a timeline
  const LANES_SHOWN = 8; // depths shown before "show all"

  const QUANTUM = DATA.timeline_quantum || 0;
  let HORIZON = Math.max(1, DATA.duration || 0);
  for (const t of THREADS) HORIZON = Math.max(HORIZON, t.last);

  // a thread's timeline, decoded on first use: per depth, start/end/func arrays
  const lanesCache = new Map();
  function threadLanes(ti) {
    let lanes = lanesCache.get(ti);
    if (lanes) return lanes;
    const tl = THREADS[ti].timeline;
    lanes = [];
    if (tl) {
      for (const flat of tl.lanes) {
        const n = flat.length / 3;
        const start = new Float64Array(n), end = new Float64Array(n), func = new Int32Array(n);
        let t = 0;
        for (let k = 0; k < n; k++) {
          start[k] = t + flat[3 * k];
          end[k] = start[k] + flat[3 * k + 1];
          func[k] = flat[3 * k + 2];
          t = end[k];
        }
        lanes.push({ start, end, func });
      }
    }
    lanesCache.set(ti, lanes);
    return lanes;
  }
  for (const t of THREADS) {
    if (!t.timeline) continue;
    // the end of each lane is the last slice's end: sum of gaps and durations
    for (const flat of t.timeline.lanes) {
      let s = 0;
      for (let k = 0; k < flat.length; k += 3) s += flat[k] + flat[k + 1];
      HORIZON = Math.max(HORIZON, s);
    }
  }

  // the first index k with end[k] >= t
  function lowerEnd(end, t) {
    let lo = 0, hi = end.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (end[mid] < t) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  const threadsView = {
    built: false,
    dirty: true,
    canvas: document.getElementById("threads-canvas"),
    scroll: document.getElementById("threads-scroll"),
    expanded: new Set(), // group indices shown expanded
    deep: new Set(), // thread indices showing every depth
    v0: 0,
    v1: HORIZON,
    rows: [],
    height: 0,
    hits: [], // [x0, x1, y0, y1, info] of the last draw

    init() {
      // groups of more than one thread; expanded at first when the profile is small
      const small = THREADS.length <= 40;
      GROUPS.forEach((g, gi) => {
        if (g.members.length > 1 && (small || g.members.length <= 3)) this.expanded.add(gi);
      });
      this.layoutRows();
    },
    invalidate() {
      this.dirty = true;
      if (this.built) scheduleDraw(this);
    },
    laneCount(ti) {
      const tl = THREADS[ti].timeline;
      if (!tl) return 0;
      const n = tl.lanes.length;
      return this.deep.has(ti) ? n : Math.min(n, LANES_SHOWN);
    },
    layoutRows() {
      const rows = [];
      let y = 0;
      const seen = new Set();
      const threadRow = (ti, indent) => {
        const lanes = this.laneCount(ti);
        const h = HEAD + (lanes ? lanes * LANE + 4 : 0);
        rows.push({ kind: "thread", ti, indent, y, h, lanes });
        y += h;
      };
      THREADS.forEach((t, ti) => {
        const g = GROUPS[t.group];
        if (g.members.length < 2) return threadRow(ti, 0);
        if (seen.has(t.group)) return;
        seen.add(t.group);
        const open = this.expanded.has(t.group);
        rows.push({ kind: "group", gi: t.group, y, h: HEAD, open });
        y += HEAD;
        if (open) for (const m of g.members) threadRow(m, 1);
      });
      this.rows = rows;
      this.height = y;
      document.getElementById("threads-spacer").style.height = RULER + y + "px";
      this.scroll.style.height = Math.max(90, Math.min(RULER + y + 2, 560)) + "px";
    },
    ensure() {
      if (!this.built) {
        this.built = true;
        this.bind();
      }
      if (this.dirty) this.draw();
    },
    plotWidth() {
      return Math.max(50, this.scroll.clientWidth - LABEL_W);
    },
    minSpan() {
      return Math.max(QUANTUM * this.plotWidth(), 50);
    },
    setWindow(v0, v1) {
      const span = Math.min(Math.max(v1 - v0, this.minSpan()), HORIZON * 1.02);
      const lo = -HORIZON * 0.01, hi = HORIZON * 1.01;
      v0 = Math.min(Math.max(v0, lo), hi - span);
      this.v0 = v0;
      this.v1 = v0 + span;
      this.dirty = true;
      this.draw();
    },
    bind() {
      const c = this.canvas;
      this.scroll.addEventListener("scroll", () => this.draw());
      c.addEventListener("wheel", (ev) => {
        const r = c.getBoundingClientRect();
        const x = ev.clientX - r.left;
        if (x < LABEL_W) return; // scroll the rows
        ev.preventDefault();
        const span = this.v1 - this.v0;
        const unit = ev.deltaMode === 1 ? 16 : ev.deltaMode === 2 ? 400 : 1;
        if (ev.shiftKey || Math.abs(ev.deltaX) > Math.abs(ev.deltaY)) {
          const d = (ev.shiftKey ? ev.deltaY || ev.deltaX : ev.deltaX) * unit;
          this.setWindow(this.v0 + (d / this.plotWidth()) * span, this.v1 + (d / this.plotWidth()) * span);
          return;
        }
        const at = this.v0 + ((x - LABEL_W) / this.plotWidth()) * span;
        const k = Math.exp(ev.deltaY * unit * 0.0022);
        this.setWindow(at - (at - this.v0) * k, at + (this.v1 - at) * k);
      }, { passive: false });
      let drag = null;
      c.addEventListener("mousedown", (ev) => {
        const r = c.getBoundingClientRect();
        if (ev.button !== 0 || ev.clientX - r.left < LABEL_W) return;
        drag = { x: ev.clientX, v0: this.v0, v1: this.v1, moved: false };
        ev.preventDefault();
      });
      window.addEventListener("mousemove", (ev) => {
        if (!drag) return;
        const dx = ev.clientX - drag.x;
        if (Math.abs(dx) > 2) {
          drag.moved = true;
          c.classList.add("dragging");
        }
        const dt = (dx / this.plotWidth()) * (drag.v1 - drag.v0);
        this.setWindow(drag.v0 - dt, drag.v1 - dt);
      });
      window.addEventListener("mouseup", () => {
        if (drag) c.classList.remove("dragging");
        setTimeout(() => (drag = null), 0);
      });
      c.addEventListener("dblclick", (ev) => {
        const r = c.getBoundingClientRect();
        if (ev.clientX - r.left >= LABEL_W) this.setWindow(0, HORIZON);
      });
      c.addEventListener("click", (ev) => {
        if (drag && drag.moved) return;
        const hit = this.hit(ev);
        if (!hit) return;
        const info = hit[4];
        if (info.toggleDeep !== undefined) {
          if (this.deep.has(info.toggleDeep)) this.deep.delete(info.toggleDeep);
          else this.deep.add(info.toggleDeep);
          this.layoutRows();
          this.draw();
        } else if (info.group !== undefined) {
          this.toggleGroup(info.group);
        } else if (info.thread !== undefined) {
          select("t:" + info.thread);
        }
      });
      c.addEventListener("mousemove", (ev) => {
        const hit = this.hit(ev);
        if (!hit || (drag && drag.moved)) return hideTooltip();
        c.style.cursor = hit[4].clickable ? "pointer" : "";
        showTooltip(ev, hit[4].details());
      });
      c.addEventListener("mouseleave", hideTooltip);
    },
    toggleGroup(gi) {
      if (this.expanded.has(gi)) this.expanded.delete(gi);
      else this.expanded.add(gi);
      this.layoutRows();
      this.dirty = true;
      this.draw();
    },
    hit(ev) {
      const r = this.canvas.getBoundingClientRect();
      const x = ev.clientX - r.left, y = ev.clientY - r.top;
      for (let k = this.hits.length - 1; k >= 0; k--) {
        const h = this.hits[k];
        if (x >= h[0] && x < h[1] && y >= h[2] && y < h[3]) return h;
      }
      return null;
    },
    tx(t) {
      return LABEL_W + ((t - this.v0) / (this.v1 - this.v0)) * this.plotWidth();
    },
    draw() {
      if (!this.built) return;
      this.dirty = false;
      const width = this.scroll.clientWidth;
      const height = this.scroll.clientHeight;
      const top = this.scroll.scrollTop;
      this.canvas.style.top = top + "px";
      const ctx = setupCanvas(this.canvas, width, height);
      ctx.clearRect(0, 0, width, height);
      this.hits = [];
      const plotW = this.plotWidth();
      const selected = state.selection;
      // rows in view
      const y0 = top, y1 = top + height - RULER;
      let k = 0;
      while (k < this.rows.length && this.rows[k].y + this.rows[k].h < y0) k++;
      ctx.save();
      ctx.beginPath();
      ctx.rect(0, RULER, width, height - RULER);
      ctx.clip();
      for (; k < this.rows.length && this.rows[k].y < y1; k++) {
        const row = this.rows[k];
        const y = row.y - top + RULER;
        if (k % 2) {
          ctx.fillStyle = "#f6f7f9";
          ctx.fillRect(0, y, width, row.h);
        }
        if (row.kind === "group") this.drawGroup(ctx, row, y, plotW);
        else this.drawThread(ctx, row, y, plotW, selected === "t:" + row.ti);
      }
      ctx.restore();
      // the label column's edge and the ruler
      ctx.fillStyle = "#d3d6db";
      ctx.fillRect(LABEL_W - 1, 0, 1, height);
      this.drawRuler(ctx, width, plotW);
    },
    drawRuler(ctx, width, plotW) {
      ctx.fillStyle = "#eef0f3";
      ctx.fillRect(0, 0, width, RULER);
      ctx.fillStyle = "#c9ccd2";
      ctx.fillRect(0, RULER - 1, width, 1);
      ctx.fillStyle = "#4a4f57";
      ctx.fillText(fmtInt(THREADS.length) + (THREADS.length === 1 ? " thread" : " threads"), 8, RULER / 2);
      ctx.textAlign = "right";
      ctx.fillText("wall", LABEL_W - 70, RULER / 2);
      ctx.textAlign = "left";
      if (HAS_CPU) {
        ctx.fillStyle = "#2f855a";
        ctx.fillText("CPU", LABEL_W - 64, RULER / 2);
        ctx.fillStyle = "#c46f22";
        ctx.fillText("off", LABEL_W - 64 + 30, RULER / 2);
      }
      const span = this.v1 - this.v0;
      const raw = (span / plotW) * 90; // ticks per label
      const pow = Math.pow(10, Math.floor(Math.log10(raw)));
      const step = [1, 2, 5, 10].map((m) => m * pow).find((s) => s >= raw);
      ctx.save();
      ctx.beginPath();
      ctx.rect(LABEL_W, 0, plotW, this.scroll.clientHeight);
      ctx.clip();
      for (let t = Math.ceil(this.v0 / step) * step; t <= this.v1; t += step) {
        const x = Math.round(this.tx(t)) + 0.5;
        ctx.fillStyle = "#c9ccd2";
        ctx.fillRect(x, RULER - 6, 1, 6);
        ctx.fillStyle = "rgba(0,0,0,0.05)";
        ctx.fillRect(x, RULER, 1, this.scroll.clientHeight);
        ctx.fillStyle = "#4a4f57";
        ctx.fillText(fmtTicks(t), x + 3, RULER / 2 - 1);
      }
      ctx.restore();
    },
    busyBar(ctx, x, y, wall, cpu) {
      const w = 56, h = 8;
      ctx.fillStyle = "#e5e7eb";
      ctx.fillRect(x, y, w, h);
      if (wall > 0) {
        const c = Math.min(1, Math.max(0, cpu / wall));
        ctx.fillStyle = "#2f855a";
        ctx.fillRect(x, y, w * c, h);
        ctx.fillStyle = "#dd8a3e";
        ctx.fillRect(x + w * c, y, w * (1 - c), h);
      }
    },
    labelStats(ctx, y, wall, cpu) {
      ctx.fillStyle = "#3b3f46";
      ctx.textAlign = "right";
      ctx.fillText(fmtTicks(wall), LABEL_W - 70, y + HEAD / 2);
      ctx.textAlign = "left";
      if (HAS_CPU) this.busyBar(ctx, LABEL_W - 64, y + HEAD / 2 - 4, wall, cpu);
    },
    drawGroup(ctx, row, y, plotW) {
      const g = GROUPS[row.gi];
      let wall = 0, cpu = 0, first = Infinity, last = -Infinity;
      for (const ti of g.members) {
        const t = THREADS[ti];
        wall += t.wall;
        cpu += t.cpu;
        first = Math.min(first, t.first);
        last = Math.max(last, t.last);
      }
      ctx.fillStyle = "#1d1f21";
      const label = (row.open ? "\u25be " : "\u25b8 ") + g.members.length + " \u00d7 " + oneLine(g.pattern);
      ctx.font = "600 12px system-ui, -apple-system, 'Segoe UI', 'DejaVu Sans', sans-serif";
      ctx.fillText(fitText(ctx, label, LABEL_W - 140), 6, y + HEAD / 2);
      ctx.font = "12px system-ui, -apple-system, 'Segoe UI', 'DejaVu Sans', sans-serif";
      this.labelStats(ctx, y, wall, cpu);
      // every member's lifetime, overlaid
      ctx.fillStyle = "rgba(84,110,150,0.25)";
      for (const ti of g.members) {
        const t = THREADS[ti];
        const a = Math.max(LABEL_W, this.tx(t.first)), b = Math.min(LABEL_W + plotW, this.tx(t.last));
        if (b >= a) ctx.fillRect(a, y + 6, Math.max(1, b - a), 8);
      }
      const details = () => [
        el("div", { class: "t", text: g.pattern }),
        el("div", { class: "f", text: g.members.length + " threads grouped by name; click to " + (row.open ? "collapse" : "expand") }),
        timesTable([
          ["lifetime", fmtTicks(first) + " \u2013 " + fmtTicks(last)],
          ["wall", fmtTicks(wall)],
          ...(HAS_CPU ? [["CPU", fmtTicks(cpu) + " (" + fmtPct(wall ? cpu / wall : NaN) + ")"], ["off-CPU", fmtTicks(wall - cpu)]] : []),
        ]),
      ];
      this.hits.push([0, LABEL_W, y, y + HEAD, { group: row.gi, clickable: true, details }]);
      this.hits.push([LABEL_W, LABEL_W + plotW, y, y + HEAD, { details }]);
    },
    drawThread(ctx, row, y, plotW, isSelected) {
      const ti = row.ti;
      const t = THREADS[ti];
      const indent = row.indent * 16;
      if (isSelected) {
        ctx.fillStyle = "#dbe6ff";
        ctx.fillRect(0, y, LABEL_W - 1, row.h);
      }
      ctx.fillStyle = "#1d1f21";
      ctx.fillText(fitText(ctx, oneLine(t.name), LABEL_W - 140 - indent), 8 + indent, y + HEAD / 2);
      this.labelStats(ctx, y, t.wall, t.cpu);
      const details = () => threadDetails(ti);
      this.hits.push([0, LABEL_W, y, y + HEAD, { thread: ti, clickable: true, details }]);
      // the lifetime
      const a = Math.max(LABEL_W, this.tx(t.first)), b = Math.min(LABEL_W + plotW, this.tx(t.last));
      if (b >= a) {
        ctx.fillStyle = row.lanes ? "rgba(84,110,150,0.35)" : "rgba(84,110,150,0.6)";
        ctx.fillRect(a, y + 6, Math.max(1, b - a), 8);
        this.hits.push([a, Math.max(a + 2, b), y + 4, y + 16, { details }]);
      }
      if (!row.lanes) return;
      const total = t.timeline.lanes.length;
      if (total > LANES_SHOWN) {
        ctx.fillStyle = "#2563eb";
        const deep = this.deep.has(ti);
        const text = deep ? "\u25b4 show " + LANES_SHOWN + " levels" : "\u25be show all " + total + " levels";
        ctx.fillText(text, 8 + indent, y + HEAD + 8);
        const info = {
          toggleDeep: ti,
          clickable: true,
          details: () => [el("div", { text: deep ? "show the outermost " + LANES_SHOWN + " levels" : "show all " + total + " stack levels" })],
        };
        this.hits.push([8 + indent, 8 + indent + ctx.measureText(text).width, y + HEAD, y + HEAD + 16, info]);
      }
      this.drawLanes(ctx, ti, y + HEAD, row.lanes, plotW);
    },
    drawLanes(ctx, ti, y, nLanes, plotW) {
      const lanes = threadLanes(ti);
      const span = this.v1 - this.v0;
      const perPx = span / plotW;
      const matcher = state.matcher;
      const xmax = LABEL_W + plotW;
      const bottom = this.scroll.clientHeight;
      for (let d = 0; d < nLanes && d < lanes.length; d++) {
        const { start, end, func } = lanes[d];
        const ly = y + d * LANE;
        if (ly + LANE < RULER) continue;
        if (ly > bottom) break;
        let k = lowerEnd(end, this.v0);
        while (k < start.length && start[k] <= this.v1) {
          const x0 = this.tx(start[k]);
          const x1 = this.tx(end[k]);
          const f = func[k];
          if (x1 - x0 < 1) {
            // everything up to the next pixel boundary is one pixel: skip it
            const px = Math.floor(x0);
            ctx.fillStyle = f < 0 ? "#9aa0a8" : matcher ? (matcher(f) ? HL : "#cfd2d6") : funcColor(f);
            ctx.fillRect(Math.max(px, LABEL_W), ly, 1, LANE - 1);
            const next = this.v0 + (px + 1 - LABEL_W) * perPx;
            const k2 = lowerEnd(end, next);
            k = k2 > k ? k2 : k + 1;
            continue;
          }
          const a = Math.max(x0, LABEL_W), b = Math.min(x1, xmax);
          if (f < 0) ctx.fillStyle = "#9aa0a8";
          else ctx.fillStyle = matcher ? (matcher(f) ? HL : dimColor(f)) : funcColor(f);
          ctx.fillRect(a, ly, Math.max(1, b - a - (b - a > 3 ? 1 : 0)), LANE - 1);
          if (b - a > 30) {
            const label = f < 0 ? -f + " calls" : FDRAW[f];
            const text = fitText(ctx, label, b - a - 6);
            if (text) {
              ctx.fillStyle = "#1d1f21";
              ctx.save();
              ctx.font = "10px system-ui, -apple-system, 'Segoe UI', 'DejaVu Sans', sans-serif";
              ctx.fillText(text, a + 3, ly + LANE / 2);
              ctx.restore();
            }
          }
          const kk = k;
          this.hits.push([a, Math.max(b, a + 1), ly, ly + LANE, { details: () => sliceDetails(ti, d, kk) }]);
          k++;
        }
      }
    },
    visibleRows() {
      this.ensure();
      return this.rows.map((r) =>
        r.kind === "group"
          ? { kind: "group", name: GROUPS[r.gi].pattern, members: GROUPS[r.gi].members.length, open: r.open, y: r.y, height: r.h }
          : { kind: "thread", name: THREADS[r.ti].name, thread: r.ti, lanes: r.lanes, y: r.y, height: r.h });
    },
  };

  function threadDetails(ti) {
    const t = THREADS[ti];
    const rows = [
      ["ident", String(t.ident)],
      ["native id", String(t.native_id)],
      ["lifetime", fmtTicks(t.first) + " \u2013 " + fmtTicks(t.last) + " (" + fmtTicks(t.last - t.first) + ")"],
      ["wall", fmtTicks(t.wall)],
    ];
    if (HAS_CPU) {
      rows.push(["busy (CPU)", fmtTicks(t.cpu) + " (" + fmtPct(t.wall ? t.cpu / t.wall : NaN) + ")"]);
      rows.push(["waiting (off-CPU)", fmtTicks(t.wall - t.cpu) + " (" + fmtPct(t.wall ? (t.wall - t.cpu) / t.wall : NaN) + ")"]);
    }
    rows.push(["calls", fmtInt(threadCalls(ti))]);
    if (t.timeline) {
      const tl = t.timeline;
      rows.push(["timeline", fmtInt(tl.calls) + " calls" + (tl.shown < tl.calls ? ", drawn as " + fmtInt(tl.shown) + " slices" : "")]);
      if (tl.dropped) rows.push(["dropped", fmtInt(tl.dropped) + " first events (--timeline-limit)"]);
    }
    const out = [el("div", { class: "t", text: t.name }), timesTable(rows)];
    for (const w of t.warnings) out.push(el("div", { class: "f", text: "\u26a0 " + w }));
    out.push(el("div", { class: "f", text: "click the name to show this thread in the flame graph and the function table" }));
    return out;
  }

  function sliceDetails(ti, d, k) {
    const { start, end, func } = threadLanes(ti)[d];
    const f = func[k];
    const head = f < 0
      ? [el("div", { class: "t", text: -f + " calls merged" }), el("div", { class: "f", text: "each shorter than " + fmtTicks(QUANTUM) + "; zoom is limited to keep the report small" })]
      : [el("div", { class: "t", text: FLABEL[f] }), el("div", { class: "f", text: where(f) })];
    return [
      ...head,
      timesTable([
        ["thread", THREADS[ti].name],
        ["start", fmtTicks(start[k])],
        ["duration", fmtTicks(end[k] - start[k])],
        ["depth", String(d)],
      ]),
    ];
  }

  // --------------------------------------------------------- function table

  const COLUMNS = [
    { key: "name", label: "Function", cls: "name" },
    { key: "calls", label: "Calls", title: "all calls" },
    { key: "prim", label: "Prim.", title: "primitive (non-recursive) calls" },
    { key: "wall", label: "Total", title: "wall time, outermost calls only" },
    { key: "wallSelf", label: "Self", title: "wall time in the function itself" },
    { key: "cpu", label: "CPU", title: "CPU time, outermost calls only", cpu: true },
    { key: "cpuSelf", label: "CPU self", title: "CPU time in the function itself", cpu: true },
    { key: "off", label: "Off-CPU", title: "wall minus CPU time: waiting", cpu: true },
    { key: "offSelf", label: "Off-CPU self", title: "wall minus CPU time in the function itself", cpu: true },
  ];
  const MEASURE_COLUMN = { wall: "wall", cpu: "cpu", off: "off" };
  const MAX_ROWS = 400;

  function statValue(s, key, f) {
    if (key === "off") return s.wall[f] - s.cpu[f];
    if (key === "offSelf") return s.wallSelf[f] - s.cpuSelf[f];
    return s[key][f];
  }

  const functionsView = {
    built: false,
    dirty: true,
    sortKey: "wall",
    asc: false,
    shown: [], // function indices of the rows shown

    invalidate() {
      this.dirty = true;
      if (this.built) scheduleDraw(this);
    },
    ensure() {
      this.built = true;
      if (this.dirty) this.draw();
    },
    sortByMeasure() {
      this.sortKey = MEASURE_COLUMN[state.measure];
      this.asc = false;
    },
    draw() {
      this.dirty = false;
      const key = state.selection;
      const s = functionStats(key);
      const matcher = state.matcher;
      let list = [];
      for (let f = 0; f < NF; f++) if (s.present[f] && (!matcher || matcher(f))) list.push(f);
      const sk = this.sortKey;
      const dir = this.asc ? 1 : -1;
      if (sk === "name") {
        list.sort((a, b) => dir * (FLABEL[a] < FLABEL[b] ? -1 : FLABEL[a] > FLABEL[b] ? 1 : a - b));
      } else {
        list.sort((a, b) => dir * (statValue(s, sk, a) - statValue(s, sk, b)) || a - b);
      }
      const count = list.length;
      list = list.slice(0, MAX_ROWS);
      this.shown = list;
      const tree = selectionTree(key);
      const total = Math.max(1, rootTotal(tree, state.measure));
      const barKey = MEASURE_COLUMN[state.measure];
      const table = document.getElementById("func-table");
      const cols = COLUMNS.filter((c) => HAS_CPU || !c.cpu);
      const head = el("tr", null, ...cols.map((c) => {
        const th = el("th", { class: (c.cls || "") + (c.key === sk ? " sorted" + (this.asc ? " asc" : "") : ""), title: c.title, text: c.label });
        th.dataset.key = c.key;
        th.addEventListener("click", () => {
          if (this.sortKey === c.key) this.asc = !this.asc;
          else {
            this.sortKey = c.key;
            this.asc = c.key === "name";
          }
          this.draw();
        });
        return th;
      }));
      const body = el("tbody");
      for (const f of list) {
        const tr = el("tr", { class: f === state.selectedFunc ? "selected" : null });
        tr.dataset.func = f;
        for (const c of cols) {
          if (c.key === "name") {
            tr.append(el("td", { class: "name", title: FLABEL[f] + "\n" + where(f) }, oneLine(FLABEL[f]), el("span", { class: "file", text: oneLine(where(f)) })));
            continue;
          }
          const v = statValue(s, c.key, f);
          const td = el("td", { text: c.key === "calls" || c.key === "prim" ? fmtInt(v) : fmtTicks(v) });
          if (c.key === barKey) {
            const p = Math.max(0, Math.min(100, (v / total) * 100));
            td.style.background = "linear-gradient(90deg, #dbe8ff " + p + "%, transparent " + p + "%)";
          }
          tr.append(td);
        }
        tr.addEventListener("click", () => selectFunction(f));
        body.append(tr);
      }
      table.replaceChildren(el("thead", null, head), body);
      document.getElementById("functions-title").textContent = "\u2014 " + selectionName(key);
      document.getElementById("functions-note").textContent =
        fmtInt(count) + (count === 1 ? " function" : " functions") + (matcher ? " matching \u201c" + state.search.trim() + "\u201d" : "") +
        (count > MAX_ROWS ? "; showing the first " + MAX_ROWS + " (search to narrow the list)" : "") +
        ". Totals count the outermost call of a recursion only, as cProfile does. Click a row for its callers and callees.";
      this.drawDetail();
    },
    drawDetail() {
      const box = document.getElementById("func-detail");
      const f = state.selectedFunc;
      if (f < 0) {
        box.replaceChildren();
        return;
      }
      const { callers, callees } = edgeStats(state.selection, f);
      const edgeTable = (edges, other) => {
        edges.sort((a, b) => b.wall - a.wall || a[other] - b[other]);
        const cols = [["Function", "name"], ["Calls", ""], ["Prim.", ""], ["Wall", ""]];
        if (HAS_CPU) cols.push(["CPU", ""], ["Off-CPU", ""]);
        const table = el("table", { class: "grid" }, el("thead", null, el("tr", null, ...cols.map(([l, c]) => el("th", { class: c, text: l })))));
        const body = el("tbody");
        if (!edges.length) body.append(el("tr", null, el("td", { class: "name muted", text: "none" })));
        for (const e of edges) {
          const g = e[other];
          const tr = el("tr", { onclick: () => selectFunction(g) },
            el("td", { class: "name", title: FLABEL[g] + "\n" + where(g) }, oneLine(FLABEL[g]), el("span", { class: "file", text: oneLine(where(g)) })),
            el("td", { text: fmtInt(e.calls) }), el("td", { text: fmtInt(e.prim) }), el("td", { text: fmtTicks(e.wall) }));
          if (HAS_CPU) tr.append(el("td", { text: fmtTicks(e.cpu) }), el("td", { text: fmtTicks(e.wall - e.cpu) }));
          tr.dataset.func = g;
          body.append(tr);
        }
        table.append(body);
        return table;
      };
      const absent = !functionStats(state.selection).present[f];
      box.replaceChildren(
        el("div", { class: "title" }, "Selected: ", el("code", { text: FLABEL[f] }), " ", el("span", { class: "muted", text: where(f) }),
          absent ? el("span", { class: "muted", text: " (not called in " + selectionName(state.selection) + ")" }) : null, " \u00b7 ",
          el("button", { class: "link", type: "button", text: "highlight in the flame graph", onclick: () => { setSearch(FLABEL[f]); location.hash = "#flame"; } })),
        el("div", { id: "func-callers" }, el("h3", { text: "Callers (" + callers.length + ")" }), el("div", { class: "box" }, edgeTable(callers, "caller"))),
        el("div", { id: "func-callees" }, el("h3", { text: "Callees (" + callees.length + ")" }), el("div", { class: "box" }, edgeTable(callees, "callee"))),
      );
    },
  };

  function selectFunction(f) {
    state.selectedFunc = f;
    functionsView.draw();
  }

  // ------------------------------------------------------ drawing schedule

  const pending = new Set();
  let frameRequested = false;
  function scheduleDraw(view) {
    pending.add(view);
    if (frameRequested) return;
    frameRequested = true;
    requestAnimationFrame(() => {
      frameRequested = false;
      const views = [...pending];
      pending.clear();
      for (const v of views) if (v.dirty) v.ensure();
    });
  }

  // build each view when it first scrolls into sight
  const VIEWS = { threads: threadsView, flame: flameView, functions: functionsView };
  function observe() {
    if (!("IntersectionObserver" in window)) {
      for (const v of Object.values(VIEWS)) v.ensure();
      return;
    }
    const io = new IntersectionObserver((entries) => {
      for (const e of entries) {
        if (e.isIntersecting) {
          VIEWS[e.target.id].ensure();
          io.unobserve(e.target);
        }
      }
    }, { rootMargin: "200px" });
    for (const id of Object.keys(VIEWS)) io.observe(document.getElementById(id));
  }

  // ------------------------------------------------------------ the page

  function summary() {
    const box = document.getElementById("summary");
    let nodes = 0;
    for (const t of THREADS) nodes += t.nodes.length / STRIDE;
    const cpuNote = { exact: "exact", sampled: "estimated between clock reads", none: "not measured" }[DATA.cpu_mode] || DATA.cpu_mode;
    const kv = (k, v) => el("span", { class: "kv" }, k + " ", el("b", { text: v }));
    const items = [
      kv("command", DATA.argv.length ? DATA.argv.join(" ") : "\u2013"),
      kv("duration", fmtTicks(DATA.duration)),
      kv("threads", fmtInt(THREADS.length)),
      kv("functions", fmtInt(NF)),
      kv("call-tree nodes", fmtInt(nodes)),
      kv("clock", DATA.clock + (HAS_CPU ? ", CPU time " + cpuNote : ", no CPU time")),
    ];
    if (DATA.python_version) items.push(kv("Python", DATA.python_version));
    if (DATA.engine) items.push(kv("engine", DATA.engine));
    if (DATA.start_time) items.push(kv("started", new Date(DATA.start_time * 1000).toISOString().replace("T", " ").slice(0, 19) + " UTC"));
    box.replaceChildren(...items, ...DATA.warnings.map((w) => el("span", { class: "warn", text: "\u26a0 " + w })));
    document.getElementById("footer").textContent =
      "Written by " + DATA.generator + ". This file is self-contained: it works offline and sends nothing anywhere.";
    document.title = "threadprof: " + (DATA.argv.length ? oneLine(DATA.argv.join(" ")) : "profile");
  }

  function timelineNote() {
    const note = document.getElementById("threads-note");
    const parts = [];
    let calls = 0, shown = 0, dropped = 0, any = false;
    for (const t of THREADS) {
      if (!t.timeline) continue;
      any = true;
      calls += t.timeline.calls;
      shown += t.timeline.shown;
      dropped += t.timeline.dropped;
    }
    if (any && QUANTUM > 0) {
      parts.push("The timeline is downsampled to keep this file small: runs of calls shorter than " + fmtTicks(QUANTUM) +
        " are merged into gray slices (" + fmtInt(shown) + " slices drawn for " + fmtInt(calls) + " calls), and the view zooms in to " +
        fmtTicks(QUANTUM) + " per pixel at most. The flame graph and the function table are exact.");
    }
    if (dropped) parts.push("The first " + fmtInt(dropped) + " timeline events were dropped by --timeline-limit.");
    if (!any) parts.push("No timeline was recorded (profile with --timeline to see the calls in time): each bar is a thread's lifetime.");
    note.textContent = parts.join(" ");
    note.hidden = !parts.length;
  }

  function threadSelect() {
    const sel = document.getElementById("thread-select");
    const opts = [el("option", { value: "all", text: "All threads, merged (" + THREADS.length + ")" })];
    const seen = new Set();
    THREADS.forEach((t, ti) => {
      const g = GROUPS[t.group];
      if (g.members.length < 2) {
        opts.push(el("option", { value: "t:" + ti, text: oneLine(t.name) }));
        return;
      }
      if (seen.has(t.group)) return;
      seen.add(t.group);
      const og = el("optgroup", { label: oneLine(g.pattern) });
      og.append(el("option", { value: "g:" + t.group, text: oneLine(g.pattern) + " \u2014 merged (" + g.members.length + ")" }));
      for (const m of g.members) og.append(el("option", { value: "t:" + m, text: oneLine(THREADS[m].name) }));
      opts.push(og);
    });
    sel.replaceChildren(...opts);
    sel.value = state.selection;
    sel.addEventListener("change", () => select(sel.value));
  }

  function controls() {
    for (const b of document.querySelectorAll("#measure button")) {
      if (!HAS_CPU && b.dataset.measure !== "wall") {
        b.disabled = true;
        b.title = "this profile has no CPU time";
      }
      b.addEventListener("click", () => setMeasure(b.dataset.measure));
      b.setAttribute("aria-pressed", String(b.dataset.measure === state.measure));
    }
    functionsView.sortByMeasure();
    const input = document.getElementById("search");
    const apply = debounce(() => setSearch(input.value), 120);
    input.addEventListener("input", apply);
    input.addEventListener("keydown", (ev) => {
      if (ev.key === "Enter") setSearch(input.value);
      if (ev.key === "Escape") setSearch("");
    });
    window.addEventListener("resize", debounce(() => {
      flameView.invalidate();
      threadsView.invalidate();
    }, 100));
  }

  function main() {
    if (DATA.version !== 1) {
      document.getElementById("summary").textContent = "This report's data has version " + DATA.version + ", which this page cannot read.";
      return;
    }
    summary();
    timelineNote();
    threadSelect();
    controls();
    threadsView.init();
    observe();
  }

  main();

  // ------------------------------------------------- hooks for tests and console

  window.threadprof = {
    data: DATA,
    errors,
    state() {
      const tree = selectionTree(state.selection);
      const z = flameView.zoom;
      return {
        selection: state.selection,
        selectionName: selectionName(state.selection),
        measure: state.measure,
        search: state.search,
        zoom: { node: z, name: z === 0 ? tree.name : FLABEL[tree.func[z]], depth: z === 0 ? 0 : tree.depth[z] },
        threadsWindow: [threadsView.v0, threadsView.v1],
        horizon: HORIZON,
        quantum: QUANTUM,
        expandedGroups: [...threadsView.expanded].map((gi) => GROUPS[gi].pattern),
        selectedFunction: state.selectedFunc < 0 ? null : FLABEL[state.selectedFunc],
      };
    },
    visibleFrames: () => flameView.visibleFrames(),
    threadRows: () => threadsView.visibleRows(),
    functionRows() {
      functionsView.ensure();
      const s = functionStats(state.selection);
      return functionsView.shown.map((f) => ({
        name: FLABEL[f], file: FFILE[f], line: FLINE[f],
        calls: s.calls[f], prim: s.prim[f], wall: s.wall[f], wallSelf: s.wallSelf[f], cpu: s.cpu[f], cpuSelf: s.cpuSelf[f],
      }));
    },
    functionStats(key) {
      const s = functionStats(key || state.selection);
      const out = [];
      for (let f = 0; f < NF; f++) {
        if (s.present[f]) out.push({ name: FLABEL[f], file: FFILE[f], line: FLINE[f], calls: s.calls[f], prim: s.prim[f], wall: s.wall[f], wallSelf: s.wallSelf[f], cpu: s.cpu[f], cpuSelf: s.cpuSelf[f] });
      }
      return out;
    },
    edges(name, key) {
      const f = FLABEL.indexOf(name);
      if (f < 0) return null;
      const { callers, callees } = edgeStats(key || state.selection, f);
      const plain = (e) => ({ caller: FLABEL[e.caller], callee: FLABEL[e.callee], calls: e.calls, prim: e.prim, wall: e.wall, wallSelf: e.wallSelf, cpu: e.cpu, cpuSelf: e.cpuSelf });
      return { callers: callers.map(plain), callees: callees.map(plain) };
    },
    tree(key) {
      const t = selectionTree(key || state.selection);
      const prim = t.prim();
      const out = [];
      for (let i = 1; i < t.n; i++) {
        const path = [];
        for (let a = i; a > 0; a = t.parent[a]) path.unshift(FLABEL[t.func[a]]);
        out.push({ path, calls: t.calls[i], prim: prim[i], wall: t.wall[i], wallSelf: t.wallSelf[i], cpu: t.cpu[i], cpuSelf: t.cpuSelf[i] });
      }
      return out;
    },
    slices(ti) {
      return threadLanes(ti).map((l) => Array.from(l.start, (s, k) => [s, l.end[k], l.func[k] < 0 ? l.func[k] : FLABEL[l.func[k]]]));
    },
    select,
    setMeasure,
    search: setSearch,
    zoomTo: (node) => flameView.zoomTo(node),
    selectFunction,
    toggleGroup: (pattern) => {
      const gi = GROUPS.findIndex((g) => g.pattern === pattern);
      if (gi >= 0) threadsView.toggleGroup(gi);
    },
    setTimeWindow: (a, b) => { threadsView.ensure(); threadsView.setWindow(a, b); },
    buildAll() {
      for (const v of Object.values(VIEWS)) v.ensure();
    },
  };
})();
