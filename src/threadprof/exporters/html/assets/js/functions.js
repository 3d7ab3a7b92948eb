/* SPDX-License-Identifier: MIT */
/* The function table, with the callers and callees of the selected function.
 */
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
