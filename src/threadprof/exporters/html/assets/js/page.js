/* SPDX-License-Identifier: MIT */
/* The page: the drawing schedule, the summary and controls, main, and
 * window.threadprof, the hooks for tests and for scripting the page from the console.
 */
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
  const VIEWS = { threads: threadsView, flame: flameView, functions: functionsView, contention: contentionView };
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
    const cpuNote = { exact: "exact", sampled: "estimated between clock reads", none: "not measured" }[DATA.cpu_mode] || DATA.cpu_mode;
    const kv = (k, v) => el("span", { class: "kv" }, k + " ", el("b", { text: v }));
    const items = [
      kv("command", DATA.argv.length ? DATA.argv.join(" ") : "\u2013"),
      kv("duration", fmtTicks(DATA.duration)),
      kv("threads", fmtInt(THREADS.length)),
      kv("functions", fmtInt(NF)),
      kv("call-tree nodes", fmtInt(DATA.nodes) + (DATA.folded ? " (the coldest " + fmtInt(DATA.folded) + " folded into [cold call paths] over all views)" : "")),
      kv("clock", DATA.clock + (HAS_CPU ? ", CPU time " + cpuNote : ", no CPU time")),
    ];
    const procs = DATA.processes || [];
    if (procs.length > 1) {
      items.splice(2, 0, kv("processes", fmtInt(procs.length)));
      for (const p of procs) {
        const took = p.recorded ? fmtTicks(p.end - p.start) + ", " : "";
        items.push(el("span", { class: "kv process" }, "pid " + p.pid + " ",
          el("b", { text: "(parent " + p.ppid + ", " + took + (p.status || "?") + ") " + oneLine(p.argv.join(" ")) })));
      }
    }
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
    THREADS.forEach((t, ti) => {
      if (!t.tasks) return;
      const og = el("optgroup", { label: "asyncio tasks of " + oneLine(t.name) });
      t.tasks.forEach((lane, li) => {
        og.append(el("option", { value: "k:" + ti + ":" + li, text: "\u00a0".repeat(2 * lane.depth) + oneLine(lane.name) }));
      });
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
    if (DATA.version !== 3) {
      document.getElementById("summary").textContent = "This report's data has version " + DATA.version + ", which this page cannot read.";
      return;
    }
    summary();
    timelineNote();
    threadSelect();
    controls();
    diffControls();
    threadsView.init();
    observe();
  }

  main();

  // ------------------------------------------------- hooks for tests and console

  window.threadprof = {
    data: DATA,
    readyAt: performance.now(), // ms since navigation: the data is decoded, the page built
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
      const prim = t.prim;
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
    setWidths,
    // a diff's frames as the last draw showed them, with both profiles' values
    diffFrames() {
      const tree = selectionTree(state.selection);
      if (!tree.before) return null;
      return flameView.visibleFrames().filter((fr) => fr.node > 0).map((fr) => ({
        name: fr.name, depth: fr.depth, width: fr.width,
        color: diffColor(tree, fr.node, state.measure),
        calls: tree.calls[fr.node], callsBefore: tree.before.calls[fr.node],
        wall: tree.wall[fr.node], wallBefore: tree.before.wall[fr.node],
      }));
    },
    search: setSearch,
    zoomTo: (node) => flameView.zoomTo(node),
    selectFunction,
    toggleGroup: (pattern) => {
      const gi = GROUPS.findIndex((g) => g.pattern === pattern);
      if (gi >= 0) threadsView.toggleGroup(gi);
    },
    setTimeWindow: (a, b) => { threadsView.ensure(); threadsView.setWindow(a, b); },
    contention() {
      contentionView.ensure();
      return { locks: CONTENTION.locks, edges: contentionView.edges(), pools: POOLS,
        shown: !document.getElementById("contention").hidden };
    },
    buildAll() {
      for (const v of Object.values(VIEWS)) v.ensure();
    },
  };
