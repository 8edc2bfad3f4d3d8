// agentlog analyze: draws the timelines embedded in the page with uPlot (inlined above).
// Every chart container gets data-drawn="true", the canvas size and data-ink (pixels drawn)
// once uPlot has drawn it, and <body> gets data-charts-drawn: a test reads these.
(function () {
  "use strict";
  var data = JSON.parse(document.getElementById("agentlog-timelines").textContent);
  var palette = ["#2f6fdf", "#d9534f", "#f0ad4e", "#5cb85c", "#8e44ad", "#16a085",
                 "#e67e22", "#7f8c8d", "#c0392b", "#2c3e50"];
  var drawn = 0;

  function ink(canvas) {
    try {
      var px = canvas.getContext("2d").getImageData(0, 0, canvas.width, canvas.height).data;
      var n = 0;
      for (var i = 3; i < px.length; i += 4) { if (px[i] !== 0) n++; }
      return n;
    } catch (e) { return -1; }
  }

  // Fills the buckets the report leaves out (they count zero) and pads one empty bucket on
  // each side, so a single bucket still draws as a shape.
  function dense(timeline, series, scale) {
    var w = timeline.bucket_seconds, t = timeline.t;
    var byT = {};
    for (var i = 0; i < t.length; i++) byT[t[i]] = i;
    var first = t[0] - w, last = t[t.length - 1] + w;
    var xs = [];
    if ((last - first) / w <= 5000) {
      for (var x = first; x <= last; x += w) xs.push(x);
    } else {
      xs = [first].concat(t, [last]);
    }
    var cols = [xs];
    series.forEach(function (s) {
      cols.push(xs.map(function (x) {
        var j = byT[x];
        return j === undefined ? 0 : s.values[j] * scale;
      }));
    });
    return cols;
  }

  function draw(el) {
    var family = data[el.dataset.family];
    var group = el.dataset.group;
    var scale = parseFloat(el.dataset.scale || "1");
    var limit = parseInt(el.dataset.limit || "8", 10);
    if (!family || !family.t.length) return;
    var series = family.series.filter(function (s) { return s.group === group; });
    series.forEach(function (s) { s.total = s.values.reduce(function (a, b) { return a + b; }, 0); });
    series = series.filter(function (s) { return s.total > 0; })
      .sort(function (a, b) { return b.total - a.total || (a.key < b.key ? -1 : 1); })
      .slice(0, limit);
    if (!series.length) { el.textContent = "no data over time"; el.dataset.drawn = "empty"; return; }
    var opts = {
      width: Math.max(320, el.clientWidth || 900),
      height: 240,
      tzDate: function (ts) { return uPlot.tzDate(new Date(ts * 1e3), "Etc/UTC"); },
      scales: { x: { time: true } },
      axes: [{}, { size: 70 }],
      series: [{ label: "UTC" }].concat(series.map(function (s, i) {
        var c = palette[i % palette.length];
        return { label: s.key, stroke: c, fill: c + "22", width: 2, paths: uPlot.paths.stepped({ align: 1 }),
                 points: { show: true, size: 4 } };
      })),
      hooks: {
        draw: [function (u) {
          var canvas = u.ctx.canvas;
          el.dataset.canvasWidth = canvas.width;
          el.dataset.canvasHeight = canvas.height;
          el.dataset.ink = ink(canvas);
          if (el.dataset.drawn !== "true") { el.dataset.drawn = "true"; drawn++; }
          document.body.dataset.chartsDrawn = drawn;
        }]
      }
    };
    new uPlot(opts, dense(family, series, scale), el);
  }

  var charts = document.querySelectorAll("div.chart");
  document.body.dataset.chartsDrawn = "0";
  for (var i = 0; i < charts.length; i++) {
    try { draw(charts[i]); } catch (e) { charts[i].dataset.drawn = "error: " + e; }
  }
})();
