/* SPDX-License-Identifier: MIT */
/* The page's state (selection, measure, search, selected function) and the tooltip.
 */
  // ----------------------------------------------------------------- state

  const state = {
    selection: "all",
    measure: DATA.clock === "cpu" && HAS_CPU ? "cpu" : "wall",
    search: "",
    matcher: null, // function index -> bool, or null
    matchCache: null,
    selectedFunc: -1,
    widths: "after", // a diff's flame graph: the widths of the "after" or the "before" profile
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
    const k = /^k:(\d+):(\d+)$/.exec(key); // a lane of asyncio tasks of a thread
    const lane = k && THREADS[+k[1]] && (THREADS[+k[1]].tasks || [])[+k[2]];
    if (key !== "all" && !lane && !(m && +m[2] < (m[1] === "g" ? GROUPS : THREADS).length)) return;
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
