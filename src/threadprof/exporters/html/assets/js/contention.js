/* SPDX-License-Identifier: MIT */
/* The contention section: the pools of worker threads (how busy, and how
 * long their work waited with a worker free), the locks that made threads
 * wait, and a graph of
 * who made whom wait (waiting code on the left, the code that held the lock
 * or woke the waiter on the right, each edge as thick as the wait it caused).
 */
  // ---------------------------------------------------------------- contention

  const CONTENTION = DATA.contention || { total: 0, locks: [], edges: [] };
  const POOLS = CONTENTION.pools || [];

  const contentionView = {
    built: false,
    dirty: true,
    invalidate() {},
    ensure() {
      if (this.built) return;
      this.built = true;
      this.dirty = false;
      const box = document.getElementById("contention");
      if (!CONTENTION.locks.length && !POOLS.length) {
        box.hidden = true;
        return;
      }
      box.hidden = false;
      this.pools();
      const locksBox = document.getElementById("lock-box");
      locksBox.hidden = !CONTENTION.locks.length;
      if (!CONTENTION.locks.length) return;
      document.getElementById("contention-title").textContent =
        CONTENTION.total + " lock" + (CONTENTION.total === 1 ? "" : "s") + " made threads wait" +
        (CONTENTION.total > CONTENTION.locks.length ? ", the " + CONTENTION.locks.length + " longest shown" : "");
      this.table();
      this.graph();
    },
    pools() {
      const box = document.getElementById("pool-box");
      box.hidden = !POOLS.length;
      if (!POOLS.length) return;
      const share = (part, whole) => whole > 0 ? Math.round(100 * part / whole) + "%" : "\u2013";
      const head = el("tr", null, ...["Pool", "Workers", "Busy", "Blocked", "Idle", "Tasks min / mean / max",
        "Work queued", "With a worker free"].map((t, i) => el("th", { class: i ? "num" : "name", text: t })));
      const rows = POOLS.map((p) => el("tr", null,
        el("td", { class: "name", text: oneLine(p.key) }),
        el("td", { class: "num", text: fmtInt(p.workers) }),
        el("td", { class: "num", text: share(p.busy, p.wall) }),
        el("td", { class: "num", text: share(p.blocked, p.wall) }),
        el("td", { class: "num", text: share(p.idle, p.wall) }),
        el("td", { class: "num", text: p.tasks ? p.tasks[0] + " / " + p.tasks[1].toFixed(1) + " / " + p.tasks[2] : "\u2013" }),
        el("td", { class: "num", text: p.queued === null ? "\u2013" : fmtTicks(p.queued) }),
        el("td", { class: "num", text: p.underused === null ? "\u2013" : fmtTicks(p.underused) })));
      document.getElementById("pool-table").replaceChildren(el("thead", null, head), el("tbody", null, ...rows));
    },
    table() {
      const head = el("tr", null, ...["Lock (kind in the code that first used it)", "Waits", "Waited", "Longest",
        "Holds", "Held", "Longest"].map((t, i) => el("th", { class: i ? "num" : "name", text: t })));
      const rows = CONTENTION.locks.map((l) => el("tr", null,
        el("td", { class: "name", text: oneLine(l.name) }),
        el("td", { class: "num", text: fmtInt(l.waits) }),
        el("td", { class: "num", text: fmtTicks(l.wait) }),
        el("td", { class: "num", text: fmtTicks(l.max_wait) }),
        el("td", { class: "num", text: l.holds ? fmtInt(l.holds) : "\u2013" }),
        el("td", { class: "num", text: l.holds ? fmtTicks(l.hold) : "\u2013" }),
        el("td", { class: "num", text: l.holds ? fmtTicks(l.max_hold) : "\u2013" })));
      document.getElementById("lock-table").replaceChildren(el("thead", null, head), el("tbody", null, ...rows));
    },
    // the bipartite graph: one node per waiting side and per holding side
    layout() {
      const left = [], right = [], li = new Map(), ri = new Map();
      const add = (list, index, name, w) => {
        if (!index.has(name)) { index.set(name, list.length); list.push({ name, weight: 0 }); }
        const n = list[index.get(name)];
        n.weight += w;
        return index.get(name);
      };
      const edges = CONTENTION.edges.map((e) => ({
        ...e, from: add(left, li, e.waiter, e.weight), to: add(right, ri, e.holder, e.weight),
      }));
      return { left, right, edges };
    },
    graph() {
      const { left, right, edges } = this.layout();
      // SVG's namespace, from the HTML parser (the page names no URL at all)
      const holder = el("div");
      holder.innerHTML = "<svg/>";
      const NS = holder.firstChild.namespaceURI;
      const svgEl = (tag, attrs, text) => {
        const n = document.createElementNS(NS, tag);
        for (const [k, v] of Object.entries(attrs)) n.setAttribute(k, v);
        if (text !== undefined) n.textContent = text;
        return n;
      };
      const rowH = 22, pad = 8, width = 960, colW = 330;
      const height = pad * 2 + rowH * Math.max(left.length, right.length, 1);
      const svg = svgEl("svg", { width: "100%", viewBox: "0 0 " + width + " " + height, role: "img",
        "aria-label": "who made whom wait" });
      const y = (i) => pad + rowH * i + rowH / 2;
      const most = Math.max(1, ...edges.map((e) => e.weight));
      for (const e of edges) {
        const w = 1 + 9 * (e.weight / most);
        const x0 = colW, x1 = width - colW, mid = (x0 + x1) / 2;
        const path = svgEl("path", {
          d: "M" + x0 + "," + y(e.from) + " C" + mid + "," + y(e.from) + " " + mid + "," + y(e.to) + " " + x1 + "," + y(e.to),
          class: "edge " + e.how, "stroke-width": w.toFixed(1), fill: "none",
        });
        path.append(svgEl("title", {}, oneLine(e.waiter) + (e.how === "held" ? " waited while " : " was woken by ") +
          oneLine(e.holder) + (e.how === "held" ? " held " : " on ") + oneLine(CONTENTION.locks[e.lock].name) + ": " + fmtTicks(e.weight)));
        svg.append(path);
      }
      const label = (list, x, anchor) => list.forEach((n, i) => {
        const t = svgEl("text", { x, y: y(i) + 4, "text-anchor": anchor, class: "side" }, oneLine(n.name));
        t.append(svgEl("title", {}, oneLine(n.name) + ": " + fmtTicks(n.weight)));
        svg.append(t);
      });
      label(left, colW - 6, "end");
      label(right, width - colW + 6, "start");
      svg.append(svgEl("text", { x: colW - 6, y: 10, "text-anchor": "end", class: "head" }, "waited"));
      svg.append(svgEl("text", { x: width - colW + 6, y: 10, "text-anchor": "start", class: "head" }, "held it, or woke the waiter"));
      document.getElementById("blocker-graph").replaceChildren(svg);
    },
    edges() {
      const { left, right, edges } = this.layout();
      return edges.map((e) => ({ waiter: left[e.from].name, holder: right[e.to].name, how: e.how, weight: e.weight,
        lock: CONTENTION.locks[e.lock].name }));
    },
  };
