/* SPDX-License-Identifier: MIT */
/* The threads overview: lifetimes and timelines on one time axis, on a canvas
 * that draws only the rows and slices in view.
 */
  // ------------------------------------------------------- threads overview

  const RULER = 24;
  const LABEL_W = 320;
  const HEAD = 20; // a thread's or group's own line
  const LANE = 12; // one stack depth of a timeline
  const LANES_SHOWN = 8; // depths shown before "show all"
  const TASKS_OPEN = 30; // a thread's lanes of tasks shown at first, at most

  const QUANTUM = DATA.timeline_quantum || 0;
  const HORIZON = DATA.horizon; // the end of the time axis: the latest end of anything shown

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
    taskOpen: new Set(), // thread indices showing their lanes of asyncio tasks
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
      // a thread's tasks are shown at first when they fit
      THREADS.forEach((t, ti) => {
        if (t.tasks && t.tasks.length <= TASKS_OPEN) this.taskOpen.add(ti);
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
        const tasks = THREADS[ti].tasks;
        if (!tasks) return;
        const open = this.taskOpen.has(ti);
        rows.push({ kind: "tasks", ti, indent: indent + 1, y, h: HEAD, open });
        y += HEAD;
        if (open) {
          tasks.forEach((lane, li) => {
            rows.push({ kind: "task", ti, li, indent: indent + 2 + lane.depth, y, h: HEAD });
            y += HEAD;
          });
        }
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
        } else if (info.tasksOf !== undefined) {
          if (this.taskOpen.has(info.tasksOf)) this.taskOpen.delete(info.tasksOf);
          else this.taskOpen.add(info.tasksOf);
          this.layoutRows();
          this.dirty = true;
          this.draw();
        } else if (info.lane !== undefined) {
          select(info.lane);
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
        else if (row.kind === "tasks") this.drawTasksHead(ctx, row, y);
        else if (row.kind === "task") this.drawTask(ctx, row, y, plotW, selected === "k:" + row.ti + ":" + row.li);
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
      const { wall, cpu, first, last } = g;
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
    drawTasksHead(ctx, row, y) {
      const t = THREADS[row.ti];
      const n = t.task_count, lanes = t.tasks.length;
      const text = (row.open ? "\u25be " : "\u25b8 ") + fmtInt(n) + (n === 1 ? " asyncio task" : " asyncio tasks");
      ctx.fillStyle = "#2563eb";
      ctx.fillText(fitText(ctx, text, LABEL_W - 20 - row.indent * 16), 8 + row.indent * 16, y + HEAD / 2);
      const details = () => [
        el("div", { class: "t", text: fmtInt(n) + " asyncio tasks of " + t.name }),
        el("div", { class: "f", text: "each under the task that made it" + (lanes < n ? ", " + fmtInt(lanes) + " lanes (tasks of one name pattern share one)" : "") + "; click to " + (row.open ? "hide" : "show") + " them" }),
      ];
      this.hits.push([0, LABEL_W, y, y + HEAD, { tasksOf: row.ti, clickable: true, details }]);
    },
    drawTask(ctx, row, y, plotW, isSelected) {
      const lane = THREADS[row.ti].tasks[row.li];
      const indent = row.indent * 16;
      if (isSelected) {
        ctx.fillStyle = "#dbe6ff";
        ctx.fillRect(0, y, LABEL_W - 1, row.h);
      }
      ctx.fillStyle = "#1d1f21";
      ctx.fillText(fitText(ctx, oneLine(lane.name), LABEL_W - 140 - indent), 8 + indent, y + HEAD / 2);
      this.labelStats(ctx, y, lane.wall, lane.cpu);
      const key = "k:" + row.ti + ":" + row.li;
      const details = () => taskDetails(row.ti, row.li);
      this.hits.push([0, LABEL_W, y, y + HEAD, { lane: key, clickable: true, details }]);
      // its lifetime, awaiting (light), and its steps, running (dark)
      const xmax = LABEL_W + plotW;
      const a = Math.max(LABEL_W, this.tx(lane.first)), b = Math.min(xmax, this.tx(lane.last));
      if (b >= a) {
        ctx.fillStyle = "rgba(196,111,34,0.3)";
        ctx.fillRect(a, y + 7, Math.max(1, b - a), 6);
        this.hits.push([a, Math.max(a + 2, b), y + 4, y + 16, { details }]);
      }
      const spans = lane.spans;
      ctx.fillStyle = "#2f855a";
      for (let k = 0; k < spans.length; k += 2) {
        if (spans[k + 1] < this.v0 || spans[k] > this.v1) continue;
        const x0 = Math.max(LABEL_W, this.tx(spans[k])), x1 = Math.min(xmax, this.tx(spans[k + 1]));
        ctx.fillRect(x0, y + 5, Math.max(1, x1 - x0), 10);
      }
    },
    visibleRows() {
      this.ensure();
      return this.rows.map((r) => {
        if (r.kind === "group") return { kind: "group", name: GROUPS[r.gi].pattern, members: GROUPS[r.gi].members.length, open: r.open, y: r.y, height: r.h };
        if (r.kind === "tasks") return { kind: "tasks", thread: r.ti, open: r.open, y: r.y, height: r.h };
        if (r.kind === "task") return { kind: "task", name: THREADS[r.ti].tasks[r.li].name, thread: r.ti, lane: r.li, indent: r.indent, y: r.y, height: r.h };
        return { kind: "thread", name: THREADS[r.ti].name, thread: r.ti, lanes: r.lanes, y: r.y, height: r.h };
      });
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
    rows.push(["calls", fmtInt(t.calls)]);
    if (t.timeline) {
      const tl = t.timeline;
      rows.push(["timeline", fmtInt(tl.calls) + " calls" + (tl.shown < tl.calls ? ", drawn as " + fmtInt(tl.shown) + " slices" : "")]);
      if (tl.dropped) rows.push(["dropped", fmtInt(tl.dropped) + " first events (--timeline-limit)"]);
    }
    const steps = t.slow_steps;
    if (steps) rows.push(["slow steps", fmtInt(steps.count) + " of tasks, " + fmtTicks(steps.least) + " or more"]);
    const out = [el("div", { class: "t", text: t.name }), timesTable(rows)];
    if (steps) {
      // the longest steps of tasks: the event loop ran nothing else meanwhile
      for (const [start, dur, coro, where, own, task] of steps.longest) {
        const into = where === coro ? "" : " \u2192 " + FLABEL[where] + " (" + fmtTicks(own) + ")";
        const of = task == null ? "" : " [task " + task + "]";
        out.push(el("div", { class: "f", text: fmtTicks(dur) + " at " + fmtTicks(start) + ": " + FLABEL[coro] + of + into }));
      }
    }
    for (const w of t.warnings) out.push(el("div", { class: "f", text: "\u26a0 " + w }));
    out.push(el("div", { class: "f", text: "click the name to show this thread in the flame graph and the function table" }));
    return out;
  }

  function taskDetails(ti, li) {
    const lane = THREADS[ti].tasks[li];
    const rows = [
      ["thread", THREADS[ti].name],
      ["lifetime", fmtTicks(lane.first) + " \u2013 " + fmtTicks(lane.last)],
      ["wall", fmtTicks(lane.wall)],
      ["awaiting", fmtTicks(lane.await) + " (" + fmtPct(lane.wall ? lane.await / lane.wall : NaN) + ")"],
    ];
    if (HAS_CPU) rows.push(["CPU", fmtTicks(lane.cpu) + " (" + fmtPct(lane.wall ? lane.cpu / lane.wall : NaN) + ")"]);
    rows.push(["steps", fmtInt(lane.steps)]);
    if (lane.tasks > 1) rows.push(["tasks", fmtInt(lane.tasks) + ", their trees merged"]);
    return [
      el("div", { class: "t", text: lane.name }),
      timesTable(rows),
      el("div", { class: "f", text: "green: its steps, running; orange: its lifetime. Click the name to show it in the flame graph and the function table" }),
    ];
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
