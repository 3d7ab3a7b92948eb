/* SPDX-License-Identifier: MIT */
/* threadprof's HTML report, the page script: the basics every section uses.
 *
 * The page's scripts (bundled in the order of threadprof.exporters.html.page.SCRIPTS
 * into one closure) read the profile that threadprof.exporters.html.data embeds
 * as JSON: the model, computed in Python. They compute nothing the model
 * provides: they decode it, sort and filter it for the views and draw it.
 * Each view is built when it is first shown: a threads overview (threads.js),
 * a flame graph (flame.js) and a function table with callers and callees
 * (functions.js). Everything the page shows comes from the embedded data
 * through textContent or canvas text, never through HTML parsing, so no name
 * can break the page.
 *
 * This file: error capture, the data, formatting, DOM and canvas helpers.
 */
  const errors = [];
  window.addEventListener("error", (e) => errors.push(String(e.message || e)));
  window.addEventListener("unhandledrejection", (e) => errors.push(String(e.reason)));

  const DATA = await readData();
  // the model as threadprof.exporters.html.data embeds it: JSON, raw deflate, base64
  async function readData() {
    const text = atob(document.getElementById("threadprof-data").textContent.trim());
    const bytes = new Uint8Array(text.length);
    for (let i = 0; i < text.length; i++) bytes[i] = text.charCodeAt(i);
    const json = new Blob([bytes]).stream().pipeThrough(new DecompressionStream("deflate-raw"));
    return JSON.parse(await new Response(json).text());
  }
  const UNIT = DATA.unit || 1e-9;
  const HAS_CPU = DATA.cpu_mode !== "none";
  const MEASURES = { wall: "wall", cpu: "CPU", off: "off-CPU" };

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
