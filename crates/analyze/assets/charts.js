// agentlog analyze: draws the timelines embedded in the page with uPlot (inlined above).
//
// The data are each family's segments: stretches of the timeline without a long gap, each in
// buckets fit for its own span. A chart (div.chart) draws each stretch in a panel of its own,
// so runs months apart are not a sliver at each edge of one axis. No series hides another:
// where the series are parts of a whole (data-layout="stack") they are stacked, the top band
// drawn first so that each band's edge stays on top wherever the band is not empty; otherwise
// (data-layout="rows") each series gets a row of panels on its own scale (small multiples).
// Axes: time in UTC in steps of whole seconds at least, each label as precise as its step;
// values from 0 in whole counts, or in dollars (data-unit="usd": the data are nano-dollars)
// with as many decimals as the step needs.
//
// What was drawn is written on the page for a test to read: every panel gets data-drawn,
// its x range and bucket width, the series it drew and the tick labels it drew (data-x-ticks,
// data-y-ticks, separated by "|"); every chart gets data-drawn="true", data-panels, its first
// canvas' size and data-ink (pixels drawn, all panels); <body> gets data-charts-drawn.
(function () {
  "use strict";
  var data = JSON.parse(document.getElementById("agentlog-timelines").textContent);
  var STROKES = ["#2f6fdf", "#d9534f", "#d68a00", "#3c9a3c", "#8e44ad", "#16a085",
                 "#c2571a", "#5d6d7e"];
  var FILLS = ["#d5e2f9", "#f6d9d8", "#f6e4c2", "#d6ebd6", "#e6d6ee", "#cdebe5",
               "#f1dccf", "#dfe2e5"];
  var LIMIT = STROKES.length;
  var DAY = 86400;
  // Time steps in seconds: never below one second.
  var TIME_STEPS = [1, 2, 5, 10, 15, 30, 60, 120, 300, 600, 900, 1800, 3600, 7200, 10800,
                    21600, 43200, DAY, 2 * DAY, 7 * DAY, 14 * DAY, 30 * DAY, 91 * DAY,
                    182 * DAY, 365 * DAY];
  var COUNT_STEPS = steps(0, 15);
  var USD_STEPS = steps(-9, 9);
  var drawnCharts = 0;

  // 1, 2 and 5 times the powers of ten from 10^from to 10^to.
  function steps(from, to) {
    var out = [];
    for (var e = from; e <= to; e++) {
      [1, 2, 5].forEach(function (m) { out.push(parseFloat((m * Math.pow(10, e)).toPrecision(1))); });
    }
    return out;
  }

  function num(v) { return typeof v === "number" && isFinite(v) ? v : null; }

  function pad(n) { return (n < 10 ? "0" : "") + n; }

  function utc(t) {
    var d = new Date(t * 1000);
    return { day: d.getUTCFullYear() + "-" + pad(d.getUTCMonth() + 1) + "-" + pad(d.getUTCDate()),
             md: pad(d.getUTCMonth() + 1) + "-" + pad(d.getUTCDate()),
             hm: pad(d.getUTCHours()) + ":" + pad(d.getUTCMinutes()),
             s: ":" + pad(d.getUTCSeconds()) };
  }

  // A tick label, as precise as the step between ticks.
  function timeTick(t, step) {
    var d = utc(t);
    if (step >= 28 * DAY) return d.day.slice(0, 7);
    if (step >= DAY) return d.md;
    return step >= 60 ? d.hm : d.hm + d.s;
  }

  // A time as precise as a bucket of `width` seconds.
  function when(t, width) {
    var d = utc(t);
    if (width >= DAY) return d.day;
    return d.day + " " + (width >= 60 ? d.hm : d.hm + d.s);
  }

  function widthText(w) {
    if (w % DAY === 0) return w / DAY + " d";
    if (w % 3600 === 0) return w / 3600 + " h";
    return w % 60 === 0 ? w / 60 + " min" : w + " s";
  }

  // "2027-01-15 08:00 – 11:00 UTC, 5 min buckets"
  function caption(seg) {
    var w = seg.bucket_seconds, t = seg.t;
    var a = when(t[0], w), b = when(t[t.length - 1] + w, w);
    if (w < DAY && a.slice(0, 10) === b.slice(0, 10)) b = b.slice(11);
    return a + " – " + b + " UTC, " + widthText(w) + " buckets";
  }

  function countText(v) { return Math.round(v).toLocaleString("en-US"); }

  // Dollars with the decimals a step of `step` needs: $0.20, $0.00015.
  function usdTick(v, step) {
    if (v === 0) return "$0";
    var decimals = step >= 1 ? 0 : Math.max(2, Math.ceil(-Math.log10(step) - 1e-9));
    return "$" + v.toFixed(Math.min(decimals, 9));
  }

  // Nano-dollars as exact dollars: 183000 -> $0.000183.
  function usdExact(nanos) {
    var s = String(Math.round(nanos));
    while (s.length < 10) s = "0" + s;
    var frac = s.slice(-9).replace(/0+$/, "");
    while (frac.length < 2) frac += "0";
    return "$" + Number(s.slice(0, -9)).toLocaleString("en-US") + "." + frac;
  }

  // The group's series over every segment, largest total first: key, total and, per
  // segment, the values by bucket.
  function groupSeries(segments, group) {
    var byKey = {}, all = [];
    segments.forEach(function (seg, si) {
      seg.series.forEach(function (s) {
        if (s.group !== group) return;
        var e = byKey[s.key];
        if (!e) { e = byKey[s.key] = { key: s.key, total: 0, values: [] }; all.push(e); }
        e.values[si] = s.values.map(num);
        e.values[si].forEach(function (v) { e.total += v || 0; });
      });
    });
    return all.filter(function (e) { return e.total > 0; })
      .sort(function (a, b) { return b.total - a.total || (a.key < b.key ? -1 : 1); });
  }

  // The bucket starts of a segment with an empty bucket on either side (the last start ends
  // the last of them): a lone bucket still draws as a step.
  function xsOf(seg) {
    var w = seg.bucket_seconds, t = seg.t.filter(function (x) { return num(x) !== null; });
    var xs = [], first = t[0] - w, last = t[t.length - 1] + 2 * w;
    if ((last - first) / w > 5000) return [first].concat(t, [last]);
    for (var x = first; x <= last; x += w) xs.push(x);
    return xs;
  }

  // One series' values of segment `si` on `xs` (a bucket left out counts zero), times `scale`.
  function column(seg, values, xs, scale) {
    var at = {};
    seg.t.forEach(function (t, i) { at[t] = i; });
    return xs.map(function (x) {
      var i = at[x];
      if (i === undefined || !values) return 0;
      return values[i] === null ? null : values[i] * scale;
    });
  }

  function el(tag, cls, parent, text) {
    var e = document.createElement(tag);
    if (cls) e.className = cls;
    if (text !== undefined) e.textContent = text;
    if (parent) parent.appendChild(e);
    return e;
  }

  function ink(canvas) {
    try {
      var px = canvas.getContext("2d").getImageData(0, 0, canvas.width, canvas.height).data;
      var n = 0;
      for (var i = 3; i < px.length; i += 4) { if (px[i] !== 0) n++; }
      return n;
    } catch (e) { return -1; }
  }

  // The axes: time ticks in whole steps, value ticks from 0 in counts or dollars. Each
  // records the labels it gave in `p.ticks`.
  function axes(p) {
    var usd = p.unit === "usd";
    return [
      { space: 90, incrs: TIME_STEPS,
        values: function (u, splits, ai, space, step) {
          return (p.ticks.x = splits.map(function (t) { return timeTick(t, step); }));
        } },
      { size: usd ? 84 : 64, space: 22, incrs: usd ? USD_STEPS : COUNT_STEPS,
        values: function (u, splits, ai, space, step) {
          return (p.ticks.y = splits.map(function (v) {
            return usd ? usdTick(v, step) : countText(v);
          }));
        } }
    ];
  }

  // uPlot series of a panel: `p.lines` are {label, own values, stroke, fill}, top band first.
  function seriesOpts(p) {
    var usd = p.unit === "usd";
    return [{ label: "UTC", value: function (u, t) { return t == null ? "--" : when(t, 1); } }]
      .concat(p.lines.map(function (line) {
        return { label: line.label, stroke: line.stroke, fill: line.fill, width: 2,
                 paths: uPlot.paths.stepped({ align: 1 }), points: { show: false },
                 value: function (u, v, si, i) {
                   var own = i == null ? null : line.own[i];
                   if (own == null) return "--";
                   return usd ? usdExact(own) : countText(own);
                 } };
      }));
  }

  // One panel: segment `p.seg` with `p.lines`, on a y range from 0 to `p.top`.
  function panel(host, p, done) {
    var box = el("div", "panel", host);
    if (p.caption) el("div", "caption", box, caption(p.seg) + (p.lines.length ? "" : " (none)"));
    p.ticks = { x: [], y: [] };
    var opts = {
      width: p.width, height: p.height, padding: [12, 36, 0, 0],
      tzDate: function (ts) { return uPlot.tzDate(new Date(ts * 1e3), "Etc/UTC"); },
      scales: { x: { time: true, range: [p.xs[0], p.xs[p.xs.length - 1]] },
                y: { range: [0, p.top] } },
      axes: axes(p),
      series: seriesOpts(p),
      hooks: { draw: [function (u) {
        var d = box.dataset;
        d.xMin = u.scales.x.min; d.xMax = u.scales.x.max;
        d.bucketSeconds = p.seg.bucket_seconds;
        d.series = p.lines.map(function (l) { return l.label; }).join("|");
        d.xTicks = p.ticks.x.join("|"); d.yTicks = p.ticks.y.join("|");
        d.ink = ink(u.ctx.canvas);
        if (d.drawn !== "true") { d.drawn = "true"; done(u.ctx.canvas, +d.ink); }
      }] }
    };
    new uPlot(opts, [p.xs].concat(p.lines.map(function (l) { return l.draw; })), box);
  }

  // A little headroom above the largest value.
  function topOf(max, usd) { return max > 0 ? max * 1.12 : (usd ? 1e-6 : 1); }

  // Stacked: per segment, the series not empty there, the largest at the bottom; past
  // LIMIT, the smallest are one band.
  function stackPanels(host, series, c, done) {
    var kept = series.slice(0, LIMIT - 1), rest = series.slice(LIMIT - 1);
    if (rest.length === 1) { kept = series; rest = []; }
    var bands = kept.map(function (s, k) { return { key: s.key, values: s.values, k: k }; });
    if (rest.length) {
      bands.push({ key: "(the other " + rest.length + ")", k: kept.length,
                   values: c.segments.map(function (seg, si) {
                     return seg.t.map(function (x, i) {
                       return rest.reduce(function (a, s) { return a + ((s.values[si] || [])[i] || 0); }, 0);
                     });
                   }) });
    }
    var panels = c.segments.map(function (seg, si) {
      var xs = xsOf(seg), sum = xs.map(function () { return 0; }), lines = [];
      bands.forEach(function (b) {
        var own = column(seg, b.values[si], xs, c.scale);
        if (!own.some(function (v) { return v > 0; })) return;
        sum = sum.map(function (a, i) { return a + (own[i] || 0); });
        lines.unshift({ label: b.key, own: own, draw: sum.slice(),
                        stroke: STROKES[b.k % LIMIT], fill: FILLS[b.k % LIMIT] });
      });
      return { seg: seg, xs: xs, lines: lines, max: Math.max.apply(null, sum) };
    });
    var max = Math.max.apply(null, panels.map(function (p) { return p.max; }));
    var row = el("div", "panels", host);
    panels.forEach(function (p) {
      p.caption = true; p.unit = c.unit; p.top = topOf(max, c.unit === "usd");
      p.width = c.width; p.height = 220;
      panel(row, p, done);
    });
    return panels.length;
  }

  // Small multiples: a row per series (at most LIMIT), a panel per segment, one scale a row.
  function rowPanels(host, series, c, done) {
    var n = 0;
    series.slice(0, LIMIT).forEach(function (s, k) {
      var label = c.unit === "usd" ? "cost" : s.key;
      var total = c.unit === "usd" ? usdExact(s.total) : countText(s.total);
      el("div", "series-name", host, label + " (total " + total + ")");
      var row = el("div", "panels", host);
      var panels = c.segments.map(function (seg, si) {
        var xs = xsOf(seg), own = column(seg, s.values[si], xs, c.scale);
        var line = { label: label, own: column(seg, s.values[si], xs, 1), draw: own,
                     stroke: STROKES[k % LIMIT], fill: FILLS[k % LIMIT] };
        return { seg: seg, xs: xs, lines: [line], max: Math.max.apply(null, own.concat([0])) };
      });
      var max = Math.max.apply(null, panels.map(function (p) { return p.max; }));
      panels.forEach(function (p) {
        p.caption = k === 0; p.unit = c.unit; p.top = topOf(max, c.unit === "usd");
        p.width = c.width; p.height = 150;
        panel(row, p, done);
        n++;
      });
    });
    if (series.length > LIMIT) {
      el("p", "note", host, (series.length - LIMIT) + " more series in the JSON output");
    }
    return n;
  }

  function draw(chart) {
    var segments = (data[chart.dataset.family] || []).filter(function (s) { return s.t.length; });
    var usd = chart.dataset.unit === "usd";
    var series = groupSeries(segments, chart.dataset.group);
    if (!series.length) { chart.textContent = "no data over time"; chart.dataset.drawn = "empty"; return; }
    var full = Math.min(chart.clientWidth || 900, 1100), gap = 12;
    var c = { segments: segments, unit: usd ? "usd" : "count", scale: usd ? 1e-9 : 1,
              width: Math.max(300, Math.floor((full - gap * (segments.length - 1)) / segments.length)) };
    var total = null, drawn = 0, inkSum = 0, first = null;
    var finish = function () {
      if (total === null || drawn < total || chart.dataset.drawn === "true") return;
      chart.dataset.canvasWidth = first.width;
      chart.dataset.canvasHeight = first.height;
      chart.dataset.ink = inkSum;
      chart.dataset.drawn = "true";
      document.body.dataset.chartsDrawn = ++drawnCharts;
    };
    var done = function (canvas, n) {
      first = first || canvas;
      inkSum += n;
      drawn++;
      finish();
    };
    total = (chart.dataset.layout === "stack" ? stackPanels : rowPanels)(chart, series, c, done);
    chart.dataset.panels = total;
    finish();
  }

  var charts = document.querySelectorAll("div.chart");
  document.body.dataset.chartsDrawn = "0";
  for (var i = 0; i < charts.length; i++) {
    try { draw(charts[i]); } catch (e) { charts[i].dataset.drawn = "error: " + e; }
  }
})();
