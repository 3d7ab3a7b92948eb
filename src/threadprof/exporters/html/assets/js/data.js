/* SPDX-License-Identifier: MIT */
/* The embedded model, decoded: functions, threads, groups and the views
 * (call tree, function table, caller/callee table) of each selection.
 */
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
  const GROUPS = DATA.groups;
  // values per entry of a view's arrays (threadprof.exporters.html.data)
  const NODE_STRIDE = 8; // parent_back, func, calls, prim_calls, wall, wall_self, cpu, cpu_self
  const FUNC_STRIDE = 7; // func, calls, prim_calls, wall, wall_self, cpu, cpu_self
  const EDGE_STRIDE = 8; // caller, callee, calls, prim_calls, wall, wall_self, cpu, cpu_self

  // A call tree as the model computed it: typed arrays indexed by node, the
  // virtual root at 0, every parent before its children.
  class Tree {
    constructor(view) {
      const nodes = view.nodes;
      const n = nodes.length / NODE_STRIDE + 1;
      this.n = n;
      this.name = view.name;
      this.parent = new Int32Array(n);
      this.func = new Int32Array(n);
      this.depth = new Int32Array(n);
      this.calls = new Float64Array(n);
      this.prim = new Float64Array(n);
      this.wall = new Float64Array(n);
      this.wallSelf = new Float64Array(n);
      this.cpu = new Float64Array(n);
      this.cpuSelf = new Float64Array(n);
      this.parent[0] = -1;
      this.func[0] = -1;
      [this.wall[0], this.wallSelf[0], this.cpu[0], this.cpuSelf[0]] = view.root;
      for (let i = 1, o = 0; i < n; i++, o += NODE_STRIDE) {
        const p = i - nodes[o];
        this.parent[i] = p;
        this.depth[i] = this.depth[p] + 1;
        this.func[i] = nodes[o + 1];
        this.calls[i] = nodes[o + 2];
        this.prim[i] = nodes[o + 3];
        this.wall[i] = nodes[o + 4];
        this.wallSelf[i] = nodes[o + 5];
        this.cpu[i] = nodes[o + 6];
        this.cpuSelf[i] = nodes[o + 7];
      }
      this.before = view.baseline ? new Baseline(view.baseline, view.baseline_root, n) : null;
      this._kids = null;
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
    value(measure, i) {
      if (this.before && state.widths === "before") return this.before.value(measure, i);
      return this.after(measure, i);
    }
    // the profile's own value, whatever the widths of a diff
    after(measure, i) {
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

  // A diff's "before" numbers of a view's nodes (exporters/html/diffpage.py):
  // calls, wall, wall_self, cpu, cpu_self per node, in the view's order.
  const BASE_STRIDE = 5;
  class Baseline {
    constructor(flat, root, n) {
      this.calls = new Float64Array(n);
      this.wall = new Float64Array(n);
      this.wallSelf = new Float64Array(n);
      this.cpu = new Float64Array(n);
      this.cpuSelf = new Float64Array(n);
      [this.wall[0], this.wallSelf[0], this.cpu[0], this.cpuSelf[0]] = root;
      for (let i = 1, o = 0; i < n; i++, o += BASE_STRIDE) {
        this.calls[i] = flat[o];
        this.wall[i] = flat[o + 1];
        this.wallSelf[i] = flat[o + 2];
        this.cpu[i] = flat[o + 3];
        this.cpuSelf[i] = flat[o + 4];
      }
    }
    value(measure, i) {
      if (measure === "cpu") return this.cpu[i];
      if (measure === "off") return Math.max(0, this.wall[i] - this.cpu[i]);
      return this.wall[i];
    }
  }

  // ------------------------------------------------------------- selection

  // "all", "g:<group>", "t:<thread>" or "k:<thread>:<lane of its tasks>": the model's view of it
  function selectionView(key) {
    if (key.startsWith("t:")) return THREADS[+key.slice(2)].view;
    if (key.startsWith("k:")) {
      const [, ti, li] = key.split(":");
      return THREADS[+ti].tasks[+li].view;
    }
    const view = DATA.merged[key];
    if (view && view.view_of) return Object.assign({}, selectionView(view.view_of), { name: view.name });
    return view || THREADS[GROUPS[+key.slice(2)].members[0]].view;
  }
  function selectionName(key) {
    return selectionView(key).name;
  }
  const trees = new Map();
  function selectionTree(key) {
    let tree = trees.get(key);
    if (!tree) {
      tree = new Tree(selectionView(key));
      trees.set(key, tree);
    }
    return tree;
  }

  // the model's per-function totals of a selection (Snapshot.function_stats), by function
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
    const rows = selectionView(key).functions;
    for (let o = 0; o < rows.length; o += FUNC_STRIDE) {
      const f = rows[o];
      s.present[f] = 1;
      s.calls[f] = rows[o + 1];
      s.prim[f] = rows[o + 2];
      s.wall[f] = rows[o + 3];
      s.wallSelf[f] = rows[o + 4];
      s.cpu[f] = rows[o + 5];
      s.cpuSelf[f] = rows[o + 6];
    }
    statsCache.set(key, s);
    return s;
  }

  // the model's caller -> callee totals (Snapshot.edge_stats) into and out of function `f`
  function edgeStats(key, f) {
    const rows = selectionView(key).edges;
    const callers = [], callees = [];
    for (let o = 0; o < rows.length; o += EDGE_STRIDE) {
      if (rows[o] !== f && rows[o + 1] !== f) continue;
      const e = {
        caller: rows[o], callee: rows[o + 1], calls: rows[o + 2], prim: rows[o + 3],
        wall: rows[o + 4], wallSelf: rows[o + 5], cpu: rows[o + 6], cpuSelf: rows[o + 7],
      };
      if (e.callee === f) callers.push(e);
      if (e.caller === f) callees.push(e);
    }
    return { callers, callees };
  }
