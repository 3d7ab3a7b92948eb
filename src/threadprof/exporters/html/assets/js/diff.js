/* SPDX-License-Identifier: MIT */
/* A diff's page (threadprof diff -o diff.html): the flame graph's colours
 * by change, the tooltip's before / after / change, the widths control.
 * Everything here is used only when DATA.diff is set.
 */
  // ----------------------------------------------------------------- diff

  const DIFF = DATA.diff || null;

  // red: the frame grew; blue: it shrank; white: the same. The shade is the
  // change as a share of the larger of its two values, so a frame that
  // appeared or vanished is the deepest colour.
  function diffColor(tree, i, measure) {
    const a = tree.after(measure, i), b = tree.before.value(measure, i);
    const big = Math.max(a, b);
    const r = big > 0 ? (a - b) / big : 0;
    if (Math.abs(r) < 0.005) return "hsl(0,0%,93%)";
    const light = 93 - Math.round(Math.min(1, Math.abs(r)) * 38);
    return r > 0 ? "hsl(2,85%," + light + "%)" : "hsl(218,80%," + light + "%)";
  }

  const signedTicks = (d) => (d > 0 ? "+" : d < 0 ? "\u2212" : "") + fmtTicks(Math.abs(d));
  const signedInt = (d) => (d > 0 ? "+" : d < 0 ? "\u2212" : "") + fmtInt(Math.abs(d));
  function change(a, b) {
    if (b === 0) return a === 0 ? "" : "new";
    return ((a - b) / b * 100).toFixed(1).replace(/^(?!-)/, "+") + "%";
  }

  // the tooltip's table: each measure before, after, and the change
  function diffTable(tree, i) {
    const B = tree.before;
    const rows = [["", "before", "after", "change", ""]];
    rows.push(["calls", fmtInt(B.calls[i]), fmtInt(tree.calls[i]), signedInt(tree.calls[i] - B.calls[i]), change(tree.calls[i], B.calls[i])]);
    const ms = HAS_CPU ? ["wall", "cpu", "off"] : ["wall"];
    for (const m of ms) {
      const a = tree.after(m, i), b = B.value(m, i);
      rows.push([MEASURES[m], fmtTicks(b), fmtTicks(a), signedTicks(a - b), change(a, b)]);
    }
    const own = HAS_CPU ? [["own wall", "wallSelf"], ["own CPU", "cpuSelf"]] : [["own wall", "wallSelf"]];
    for (const [label, k] of own) {
      const a = tree[k][i], b = B[k][i];
      rows.push([label, fmtTicks(b), fmtTicks(a), signedTicks(a - b), change(a, b)]);
    }
    return timesTable(rows);
  }

  function setWidths(w) {
    if (!DIFF || (w !== "after" && w !== "before")) return;
    state.widths = w;
    for (const b of document.querySelectorAll("#widths button")) {
      b.setAttribute("aria-pressed", String(b.dataset.widths === w));
    }
    refresh();
  }

  // the header's widths control and the summary's legend
  function diffControls() {
    if (!DIFF) return;
    const seg = el("span", { class: "ctl seg", id: "widths", role: "group", "aria-label": "Widths" });
    for (const [w, label, title] of [
      ["after", "After", "Frame widths: the profile compared (" + DIFF.after + ")"],
      ["before", "Before", "Frame widths: the baseline (" + DIFF.before + "); frames that are gone show here"],
    ]) {
      const b = el("button", { type: "button", text: label, title });
      b.dataset.widths = w;
      b.setAttribute("aria-pressed", String(w === state.widths));
      b.addEventListener("click", () => setWidths(w));
      seg.append(b);
    }
    document.getElementById("measure").after(seg);
    const legend = el("span", { class: "kv" }, "compared ",
      el("b", { text: DIFF.before }), " \u2192 ", el("b", { text: DIFF.after }),
      " \u00b7 red: grew, blue: shrank, white: the same");
    document.getElementById("summary").prepend(legend);
    // one tree, all threads merged: no thread to choose, no lifetimes to draw
    for (const node of [
      document.getElementById("thread-select").closest("label"),
      document.getElementById("threads"),
      document.querySelector('#bar nav a[href="#threads"]'),
    ]) node.style.display = "none";
    document.title = "threadprof diff: " + oneLine(DIFF.before) + " -> " + oneLine(DIFF.after);
  }
