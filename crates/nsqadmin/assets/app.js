// nsqadmin web UI: plain JavaScript, no library. It reads nsqadmin's own
// JSON API (/api/...), re-renders the current page in place every few
// seconds, and draws depth and rate charts from /api/history (figures
// nsqadmin samples itself); Graphite graphs are added when configured.
(function () {
  "use strict";

  var PREFIX = BASE_PATH === "/" ? "" : BASE_PATH;
  var content = document.getElementById("content");
  var alerts = document.getElementById("alerts");
  var updated = document.getElementById("updated");
  var state = { page: null, timer: null, generation: 0, lastHtml: "" };

  // ---------- helpers ----------

  function esc(v) {
    return String(v === undefined || v === null ? "" : v)
      .replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;")
      .replace(/"/g, "&quot;").replace(/'/g, "&#39;");
  }
  function num(n) {
    if (n === undefined || n === null || isNaN(n)) return "";
    return Number(n).toLocaleString("en-US");
  }
  function numCell(n) {
    return '<td class="' + (n ? "" : "num-zero") + '">' + num(n) + "</td>";
  }
  function enc(s) { return encodeURIComponent(s); }
  function url(path) { return PREFIX + path; }
  function home() { return PREFIX || "/"; }
  function duration(ns) {
    if (ns === undefined || ns === null) return "";
    var units = [["h", 3600e9], ["m", 60e9], ["s", 1e9], ["ms", 1e6], ["us", 1e3]];
    for (var i = 0; i < units.length; i++) {
      if (Math.abs(ns) >= units[i][1]) {
        var v = ns / units[i][1];
        return (v >= 100 ? v.toFixed(0) : v.toFixed(1).replace(/\.0$/, "")) + units[i][0];
      }
    }
    return Math.round(ns) + "ns";
  }
  function connectedText(ns) {
    var s = Math.floor(ns / 1e9), parts = [];
    var d = Math.floor(s / 86400); s %= 86400;
    var h = Math.floor(s / 3600); s %= 3600;
    var m = Math.floor(s / 60); s %= 60;
    if (d) parts.push(d + "d");
    if (h) parts.push(h + "h");
    if (m) parts.push(m + "m");
    parts.push(s + "s");
    return parts.slice(0, 2).join(" ");
  }
  function rateText(r) {
    if (r === null || r === undefined) return "–";
    return (r >= 100 ? r.toFixed(0) : r.toFixed(2)) + "/s";
  }

  // ---------- API ----------

  function api(method, path, body) {
    var ctrl = window.AbortController ? new AbortController() : null;
    var timer = setTimeout(function () { if (ctrl) ctrl.abort(); }, 20000);
    var opts = {
      method: method,
      headers: {
        "Accept": "application/vnd.nsq; version=1.0",
        "X-UserAgent": USER_AGENT,
        "Content-Type": "application/json"
      },
      signal: ctrl ? ctrl.signal : undefined
    };
    if (body !== undefined) opts.body = JSON.stringify(body);
    return fetch(url("/api" + path), opts).then(function (resp) {
      clearTimeout(timer);
      return resp.text().then(function (text) {
        var data = null;
        try { data = text ? JSON.parse(text) : {}; } catch (e) { data = null; }
        if (!resp.ok) {
          var msg = data && data.message ? data.message : (resp.status + " " + resp.statusText);
          var err = new Error(msg);
          err.status = resp.status;
          throw err;
        }
        if (data === null) throw new Error("invalid JSON from " + path);
        return data;
      });
    }, function (e) {
      clearTimeout(timer);
      throw new Error(e && e.name === "AbortError" ? "request timed out: " + path : "request failed: " + path + " (" + e.message + ")");
    });
  }

  // ---------- banners ----------

  var banners = { page: [], action: [] };
  function drawBanners() {
    var html = "";
    banners.page.concat(banners.action).forEach(function (b, i) {
      html += '<div class="alert alert-' + b.kind + '">' +
        (b.sticky ? '<button type="button" class="close" data-dismiss="' + i + '" aria-label="Dismiss">×</button>' : "") +
        esc(b.text) + "</div>";
    });
    if (alerts.innerHTML !== html) alerts.innerHTML = html;
  }
  function setPageMessages(list) { banners.page = list; drawBanners(); }
  function actionBanner(kind, text) {
    banners.action = [{ kind: kind, text: text, sticky: true }];
    drawBanners();
  }
  alerts.addEventListener("click", function (ev) {
    var t = ev.target;
    if (t && t.getAttribute && t.getAttribute("data-dismiss") !== null) {
      banners.action = [];
      drawBanners();
    }
  });
  function warningsOf(data) {
    return data && data.message ? [{ kind: "warning", text: data.message }] : [];
  }

  // ---------- confirmation dialog ----------

  var dialog = document.getElementById("confirm");
  function confirmAction(text) {
    return new Promise(function (resolve) {
      if (!dialog || typeof dialog.showModal !== "function") {
        resolve(window.confirm(text));
        return;
      }
      document.getElementById("confirm-text").textContent = text;
      dialog.returnValue = "";
      var done = function () {
        dialog.removeEventListener("close", done);
        resolve(dialog.returnValue === "ok");
      };
      dialog.addEventListener("close", done);
      dialog.showModal();
      document.getElementById("confirm-cancel").focus();
    });
  }

  function runAction(question, method, path, body, after) {
    return confirmAction(question).then(function (ok) {
      if (!ok) return;
      return api(method, path, body).then(function (data) {
        if (data.message) actionBanner("warning", data.message);
        else banners.action = [];
        drawBanners();
        if (after) after(); else refresh();
      }, function (err) {
        actionBanner("error", err.message);
      });
    });
  }

  // ---------- graphite ----------

  var graphInterval = (function () {
    var m = /[?&]t=([^&]+)/.exec(location.search);
    if (m) return decodeURIComponent(m[1]);
    try { return localStorage.getItem("nsqadmin.graph_interval") || (GRAPH_ENABLED ? "2h" : "off"); }
    catch (e) { return GRAPH_ENABLED ? "2h" : "off"; }
  })();
  function graphsOn() { return GRAPH_ENABLED && graphInterval !== "off"; }
  function sanitize(name) {
    return String(name).replace(/ /g, "_").replace(/\//g, "-").replace(/[^a-zA-Z0-9\-_.]/g, "");
  }
  function statsdPrefix(node) {
    var host = node === "*" ? "*" : String(node).replace(/[.:]/g, "_");
    var p = STATSD_PREFIX.split("%s").join(host);
    if (p && p.charAt(p.length - 1) !== ".") p += ".";
    return p;
  }
  function wrap(format, key) { return format ? format.split("%s").join(key) : key; }
  var COUNTERS = { message_count: 1, requeue_count: 1, timeout_count: 1, gc_runs: 1 };
  function metricKey(node, topic, channel, metric) {
    var key = statsdPrefix(node) + "topic." + sanitize(topic) +
      (channel ? ".channel." + sanitize(channel) : "") + "." + metric;
    return wrap(COUNTERS[metric] ? STATSD_COUNTER_FORMAT : STATSD_GAUGE_FORMAT, key);
  }
  function graphiteBase() { return GRAPHITE_URL ? GRAPHITE_URL : PREFIX; }
  function graphiteImg(title, target, counter) {
    if (counter) target = "scale(" + target + "," + (1 / STATSD_INTERVAL) + ")";
    var q = "colorList=red,green,blue,purple&height=450&width=800&from=-" + enc(graphInterval) +
      "&until=-1min&title=" + enc(title) + "&target=" + enc(target);
    return '<figure class="graphite"><img alt="' + esc(title) + ' graph" src="' +
      esc(graphiteBase() + "/render?" + q) + '"></figure>';
  }
  function graphiteRate(target, cellId) {
    api("GET", "/graphite?metric=rate&target=" + enc(target)).then(function (d) {
      var el = document.getElementById(cellId);
      if (el) el.textContent = d.rate;
    }, function () {
      var el = document.getElementById(cellId);
      if (el) el.textContent = "ERROR";
    });
  }

  // ---------- self-sampled charts ----------

  function chartSvg(samples, field, color) {
    var pts = samples.filter(function (s) { return s[field] !== null && s[field] !== undefined; });
    if (pts.length < 2) return '<div class="empty">collecting samples…</div>';
    var W = 600, H = 110, P = 4;
    var t0 = pts[0].ts, t1 = pts[pts.length - 1].ts, span = Math.max(1, t1 - t0);
    var max = 0;
    pts.forEach(function (p) { if (p[field] > max) max = p[field]; });
    if (max <= 0) max = 1;
    var d = pts.map(function (p, i) {
      var x = P + (W - 2 * P) * (p.ts - t0) / span;
      var y = H - P - (H - 2 * P) * p[field] / max;
      return (i ? "L" : "M") + x.toFixed(1) + " " + y.toFixed(1);
    }).join(" ");
    var area = d + " L" + (W - P) + " " + (H - P) + " L" + P + " " + (H - P) + " Z";
    return '<svg viewBox="0 0 ' + W + " " + H + '" preserveAspectRatio="none" role="img" aria-label="' +
      esc(field) + ' over the last ' + Math.round(span / 60) + ' minutes, peak ' + esc(num(Math.round(max * 100) / 100)) + '">' +
      '<path d="' + area + '" fill="' + color + '" fill-opacity="0.12"/>' +
      '<path d="' + d + '" fill="none" stroke="' + color + '" stroke-width="2" vector-effect="non-scaling-stroke"/>' +
      '<text x="' + (W - P) + '" y="12" text-anchor="end" font-size="11" fill="#5b6475">max ' + esc(num(Math.round(max * 100) / 100)) + "</text>" +
      '<text x="' + P + '" y="' + (H - P - 4) + '" font-size="11" fill="#5b6475">last ' + esc(span >= 120 ? Math.round(span / 60) + " min" : span + " s") + "</text></svg>";
  }
  function chartsHtml(samples, rateLabel, depthLabel) {
    var last = samples.length ? samples[samples.length - 1] : null;
    var charts = [
      { title: depthLabel || "Depth", field: "depth", color: "#1f5fbf", now: last ? num(last.depth) : "" },
      { title: rateLabel, field: "rate", color: "#1d7a3a", now: last ? rateText(last.rate) : "" }
    ];
    return '<div class="charts">' + charts.map(function (c) {
      return '<div class="chart"><h3><span>' + esc(c.title) + '</span><span class="now">' + esc(c.now) +
        "</span></h3>" + chartSvg(samples, c.field, c.color) + "</div>";
    }).join("") + "</div>";
  }
  function history(topic, channel) {
    var q = topic ? "?topic=" + enc(topic) + (channel ? "&channel=" + enc(channel) : "") : "";
    return api("GET", "/history" + q).then(function (d) { return d.samples || []; }, function () { return []; });
  }

  // ---------- shared table pieces ----------

  function quantiles(stats) {
    var e = stats && stats.e2e_processing_latency;
    return e && e.percentiles ? e.percentiles.map(function (p) { return p.quantile; }) : [];
  }
  function e2eHeaders(qs) {
    return qs.map(function (q) { return '<th scope="col">E2E p' + esc(+(q * 100).toFixed(2)) + "</th>"; }).join("");
  }
  function e2eCells(stats, qs) {
    var list = (stats.e2e_processing_latency && stats.e2e_processing_latency.percentiles) || [];
    return qs.map(function (q) {
      var p = null;
      list.forEach(function (x) { if (x.quantile === q) p = x; });
      if (!p) return "<td></td>";
      return '<td title="min ' + esc(duration(p.min)) + ", max " + esc(duration(p.max)) + '">' + esc(duration(p.average)) + "</td>";
    }).join("");
  }
  function pausedLabel(paused) { return paused ? ' <span class="label label-paused">paused</span>' : ""; }
  function hostLink(node, hostname) {
    var host = String(node);
    var port = host.slice(host.lastIndexOf(":") + 1);
    var shown = hostname ? hostname + ":" + port : host;
    var extra = hostname && host.indexOf(hostname + ":") !== 0 ? ' <span class="muted">(' + esc(host) + ")</span>" : "";
    return '<a data-nav href="' + esc(url("/nodes/" + enc(host))) + '">' + esc(shown) + "</a>" + extra;
  }
  function crumbs(parts) {
    return '<nav aria-label="Breadcrumb"><p class="crumbs">' + parts.map(function (p) {
      return p.href ? '<a data-nav href="' + esc(p.href) + '">' + esc(p.text) + "</a>" : esc(p.text);
    }).join(" / ") + "</p></nav>";
  }
  function notice(text) { return '<p class="alert alert-info">' + esc(text) + "</p>"; }

  // ---------- pages ----------

  function pageTopics() {
    return Promise.all([api("GET", "/topics"), history()]).then(function (r) {
      var data = r[0], samples = r[1];
      var topics = data.topics || [];
      var html = "<h1>Topics</h1>" + chartsHtml(samples, "Messages delivered (cluster)", "Queued (cluster)");
      if (!topics.length) {
        html += notice("No Topics Found");
      } else {
        html += '<div class="panel"><table id="topics-table"><caption>' + num(topics.length) + " topic" + (topics.length === 1 ? "" : "s") +
          '</caption><thead><tr><th scope="col">Topic</th>' + (graphsOn() ? '<th scope="col">Rate</th>' : "") + "</tr></thead><tbody>";
        topics.forEach(function (t, i) {
          html += '<tr><td><a data-nav href="' + esc(url("/topics/" + enc(t))) + '">' + esc(t) + "</a></td>" +
            (graphsOn() ? '<td id="rate-t' + i + '">…</td>' : "") + "</tr>";
        });
        html += "</tbody></table></div>";
      }
      return {
        html: html, messages: warningsOf(data), after: function () {
          if (graphsOn()) topics.forEach(function (t, i) { graphiteRate("sumSeries(" + metricKey("*", t, "", "message_count") + ")", "rate-t" + i); });
        }
      };
    });
  }

  function pageTopic(topic) {
    return Promise.all([api("GET", "/topics/" + enc(topic)), history(topic)]).then(function (r) {
      var t = r[0], samples = r[1];
      var nodes = t.nodes || [], channels = t.channels || [], qs = quantiles(t);
      var html = crumbs([{ text: "Topics", href: home() }, { text: topic }]) +
        "<h1>Topic: " + esc(topic) + pausedLabel(t.paused) + "</h1>";
      if (IS_ADMIN) {
        html += '<div class="actions">' +
          '<button type="button" class="btn btn-warn" data-action="empty-topic">Empty Queue</button>' +
          '<button type="button" class="btn btn-danger" data-action="delete-topic">Delete Topic</button>' +
          '<button type="button" class="btn" data-action="' + (t.paused ? "unpause" : "pause") + '-topic">' +
          (t.paused ? "UnPause Topic" : "Pause Topic") + "</button></div>";
      }
      html += chartsHtml(samples, "Publish rate", "Queued (topic + channels)");
      if (graphsOn()) html += graphiteImg(topic + " depth", "sumSeries(" + metricKey("*", topic, "", "depth") + ")", false) +
        graphiteImg(topic + " messages/s", "sumSeries(" + metricKey("*", topic, "", "message_count") + ")", true);
      if (!nodes.length) {
        html += notice("No producers: no nsqd has this topic right now.");
      } else {
        html += '<div class="panel"><table id="topic-nodes"><caption>Topic Message Queue</caption><thead><tr>' +
          '<th scope="col">NSQd Host</th><th scope="col">Depth</th><th scope="col">Memory + Disk</th><th scope="col">Messages</th>' +
          (graphsOn() ? '<th scope="col">Rate</th>' : "") + '<th scope="col">Channels</th>' + e2eHeaders(qs) + "</tr></thead><tbody>";
        nodes.forEach(function (n, i) {
          html += "<tr><th scope=\"row\" class=\"text\">" + hostLink(n.node, n.hostname) + pausedLabel(n.paused) +
            (IS_ADMIN ? ' <button type="button" class="btn btn-small btn-danger" data-action="tombstone" data-node="' + esc(n.node) +
              '" title="Tombstone this topic on ' + esc(n.node) + '" aria-label="Tombstone on ' + esc(n.node) + '">✘</button>' : "") + "</th>" +
            numCell(n.depth) + "<td>" + num(n.memory_depth) + " + " + num(n.backend_depth) + "</td>" + numCell(n.message_count) +
            (graphsOn() ? '<td id="rate-n' + i + '">…</td>' : "") + numCell((n.channels || []).length) + e2eCells(n, qs) + "</tr>";
        });
        html += '<tr class="total"><th scope="row" class="text">Total</th>' + numCell(t.depth) + "<td>" + num(t.memory_depth) + " + " +
          num(t.backend_depth) + "</td>" + numCell(t.message_count) + (graphsOn() ? '<td id="rate-total">…</td>' : "") +
          numCell(channels.length) + e2eCells(t, qs) + "</tr></tbody></table></div>";
      }
      if (!channels.length) {
        html += notice("No channels on this topic.");
      } else {
        var cq = channels.length ? quantiles(channels[0]) : [];
        html += '<div class="panel"><table id="topic-channels"><caption>Channel Message Queues</caption><thead><tr>' +
          '<th scope="col">Channel</th><th scope="col">Depth</th><th scope="col">Memory + Disk</th><th scope="col">In-Flight</th>' +
          '<th scope="col">Deferred</th><th scope="col">Requeued</th><th scope="col">Timed Out</th><th scope="col">Messages</th>' +
          '<th scope="col">Connections</th>' + e2eHeaders(cq) + "</tr></thead><tbody>";
        channels.forEach(function (c) {
          html += '<tr><th scope="row" class="text"><a data-nav href="' + esc(url("/topics/" + enc(topic) + "/" + enc(c.channel_name))) + '">' +
            esc(c.channel_name) + "</a>" + pausedLabel(c.paused) + "</th>" + numCell(c.depth) + "<td>" + num(c.memory_depth) + " + " +
            num(c.backend_depth) + "</td>" + numCell(c.in_flight_count) + numCell(c.deferred_count) + numCell(c.requeue_count) +
            numCell(c.timeout_count) + numCell(c.message_count) + numCell(c.client_count) + e2eCells(c, cq) + "</tr>";
        });
        html += "</tbody></table></div>";
      }
      return {
        html: html, messages: warningsOf(t), after: function () {
          if (graphsOn()) {
            nodes.forEach(function (n, i) { graphiteRate(metricKey(n.node, topic, "", "message_count"), "rate-n" + i); });
            graphiteRate("sumSeries(" + metricKey("*", topic, "", "message_count") + ")", "rate-total");
          }
        },
        actions: {
          "empty-topic": function () { return runAction("Empty all messages of topic " + topic + " on every node?", "POST", "/topics/" + enc(topic), { action: "empty" }); },
          "pause-topic": function () { return runAction("Pause topic " + topic + " on every node?", "POST", "/topics/" + enc(topic), { action: "pause" }); },
          "unpause-topic": function () { return runAction("Unpause topic " + topic + " on every node?", "POST", "/topics/" + enc(topic), { action: "unpause" }); },
          "delete-topic": function () {
            return runAction("Delete topic " + topic + " and all its channels and messages, everywhere?", "DELETE", "/topics/" + enc(topic), undefined,
              function () { navigate(home()); });
          },
          "tombstone": function (el) {
            var node = el.getAttribute("data-node");
            return runAction("Tombstone topic " + topic + " on " + node + " (it is deleted there)?", "DELETE", "/nodes/" + enc(node), { topic: topic });
          }
        }
      };
    });
  }

  function clientRows(clients) {
    return clients.map(function (c) {
      var port = String(c.remote_address).slice(String(c.remote_address).lastIndexOf(":") + 1);
      var name = esc(c.hostname + ":" + port) + (c.client_id && c.client_id !== c.hostname ? ' <span class="muted">(' + esc(c.client_id) + ")</span>" : "");
      var attrs = "";
      if (c.sample_rate > 0) attrs += '<span class="label">Sampled ' + esc(c.sample_rate) + "%</span>";
      if (c.tls) attrs += '<span class="label label-ok" title="' + esc(c.tls_version + " " + c.tls_cipher_suite) + '">TLS</span>';
      if (c.deflate) attrs += '<span class="label">Deflate</span>';
      if (c.snappy) attrs += '<span class="label">Snappy</span>';
      if (c.authed) {
        attrs += c.auth_identity_url
          ? '<a class="label label-ok" href="' + esc(c.auth_identity_url) + '" title="' + esc(c.auth_identity) + '">Authed</a>'
          : '<span class="label label-ok" title="' + esc(c.auth_identity) + '">Authed</span>';
      }
      return '<tr><th scope="row" class="text">' + name + '</th><td class="text">' + esc(c.user_agent) + '</td><td class="text">' + attrs +
        '</td><td class="text">' + hostLink(c.node, "") + "</td>" + numCell(c.in_flight_count) + numCell(c.ready_count) +
        numCell(c.finish_count) + numCell(c.requeue_count) + numCell(c.message_count) + "<td>" + esc(connectedText(c.connected)) + "</td></tr>";
    }).join("");
  }
  function clientTable(clients, id) {
    return '<div class="panel"><table id="' + id + '"><caption>Client Connections</caption><thead><tr>' +
      '<th scope="col">Client Host</th><th scope="col" class="text">User-Agent</th><th scope="col" class="text">Attributes</th>' +
      '<th scope="col" class="text">NSQd Host</th><th scope="col">In-Flight</th><th scope="col">Ready Count</th><th scope="col">Finished</th>' +
      '<th scope="col">Requeued</th><th scope="col">Messages</th><th scope="col">Connected</th></tr></thead><tbody>' +
      clientRows(clients) + "</tbody></table></div>";
  }

  function pageChannel(topic, channel) {
    return Promise.all([api("GET", "/topics/" + enc(topic) + "/" + enc(channel)), history(topic, channel)]).then(function (r) {
      var c = r[0], samples = r[1];
      var base = "/topics/" + enc(topic) + "/" + enc(channel);
      var html = crumbs([{ text: "Topics", href: home() }, { text: topic, href: url("/topics/" + enc(topic)) }, { text: channel }]) +
        "<h1>Channel: " + esc(topic) + " / " + esc(channel) + pausedLabel(c.paused) + "</h1>";
      if (!c.channel_name) {
        return { html: html + notice("This channel does not exist on any node."), messages: warningsOf(c) };
      }
      if (IS_ADMIN) {
        html += '<div class="actions">' +
          '<button type="button" class="btn btn-warn" data-action="empty-channel">Empty Queue</button>' +
          '<button type="button" class="btn btn-danger" data-action="delete-channel">Delete Channel</button>' +
          '<button type="button" class="btn" data-action="' + (c.paused ? "unpause" : "pause") + '-channel">' +
          (c.paused ? "UnPause Channel" : "Pause Channel") + "</button></div>";
      }
      html += chartsHtml(samples, "Delivery rate");
      if (graphsOn()) html += graphiteImg(channel + " depth", "sumSeries(" + metricKey("*", topic, channel, "depth") + ")", false);
      var qs = quantiles(c), nodes = c.nodes || [];
      html += '<div class="panel"><table id="channel-nodes"><caption>Channel Message Queue</caption><thead><tr>' +
        '<th scope="col">NSQd Host</th><th scope="col">Depth</th><th scope="col">Memory + Disk</th><th scope="col">In-Flight</th>' +
        '<th scope="col">Deferred</th><th scope="col">Requeued</th><th scope="col">Timed Out</th><th scope="col">Messages</th>' +
        (graphsOn() ? '<th scope="col">Rate</th>' : "") + '<th scope="col">Connections</th>' + e2eHeaders(qs) + "</tr></thead><tbody>";
      var row = function (s, head, rateId) {
        return head + numCell(s.depth) + "<td>" + num(s.memory_depth) + " + " + num(s.backend_depth) + "</td>" +
          numCell(s.in_flight_count) + numCell(s.deferred_count) + numCell(s.requeue_count) + numCell(s.timeout_count) +
          numCell(s.message_count) + (graphsOn() ? '<td id="' + rateId + '">…</td>' : "") + numCell(s.client_count) + e2eCells(s, qs) + "</tr>";
      };
      nodes.forEach(function (n, i) {
        html += row(n, '<tr><th scope="row" class="text">' + hostLink(n.node, n.hostname) + pausedLabel(n.paused) + "</th>", "rate-n" + i);
      });
      html += row(c, '<tr class="total"><th scope="row" class="text">Total</th>', "rate-total") + "</tbody></table></div>";
      var clients = c.clients || [];
      html += clients.length ? clientTable(clients, "channel-clients") : notice("No clients connected to this channel.");
      return {
        html: html, messages: warningsOf(c), after: function () {
          if (graphsOn()) {
            nodes.forEach(function (n, i) { graphiteRate(metricKey(n.node, topic, channel, "message_count"), "rate-n" + i); });
            graphiteRate("sumSeries(" + metricKey("*", topic, channel, "message_count") + ")", "rate-total");
          }
        },
        actions: {
          "empty-channel": function () { return runAction("Empty all messages of channel " + channel + " on every node?", "POST", base, { action: "empty" }); },
          "pause-channel": function () { return runAction("Pause channel " + channel + " on every node?", "POST", base, { action: "pause" }); },
          "unpause-channel": function () { return runAction("Unpause channel " + channel + " on every node?", "POST", base, { action: "unpause" }); },
          "delete-channel": function () {
            return runAction("Delete channel " + channel + " and its messages, everywhere?", "DELETE", base, undefined,
              function () { navigate(url("/topics/" + enc(topic))); });
          }
        }
      };
    });
  }

  function pageNodes() {
    return api("GET", "/nodes").then(function (d) {
      var nodes = d.nodes || [];
      var html = "<h1>NSQd Nodes (" + num(nodes.length) + ")</h1>";
      if (!nodes.length) return { html: html + notice("No nsqd nodes found."), messages: warningsOf(d) };
      html += '<div class="panel"><table id="nodes-table"><thead><tr><th scope="col">Hostname</th><th scope="col" class="text">Broadcast Address</th>' +
        '<th scope="col">TCP Port</th><th scope="col">HTTP Port</th><th scope="col" class="text">Version</th>' +
        (NSQLOOKUPD.length ? '<th scope="col">Lookupd Conns.</th>' : "") + '<th scope="col" class="text">Topics</th></tr></thead><tbody>';
      nodes.forEach(function (n) {
        var node = n.broadcast_address.indexOf(":") >= 0 ? "[" + n.broadcast_address + "]:" + n.http_port : n.broadcast_address + ":" + n.http_port;
        var conns = (n.remote_addresses || []).length;
        var topics = n.topics || [];
        html += "<tr" + (n.out_of_date ? ' class="stale"' : "") + '><th scope="row" class="text">' + esc(n.hostname) + "</th>" +
          '<td class="text"><a data-nav href="' + esc(url("/nodes/" + enc(node))) + '">' + esc(n.broadcast_address) + "</a></td>" +
          "<td>" + esc(n.tcp_port) + "</td><td>" + esc(n.http_port) + '</td><td class="text">' + esc(n.version) +
          (n.out_of_date ? ' <span class="label label-warn">out of date</span>' : "") + "</td>" +
          (NSQLOOKUPD.length ? "<td" + (conns !== NSQLOOKUPD.length ? ' class="stale"' : "") + ' title="' + esc((n.remote_addresses || []).join("\n")) + '">' + conns + "</td>" : "") +
          '<td class="text topic-tags"><span class="badge">' + topics.length + "</span>" + topics.map(function (t) {
            return '<a class="badge' + (t.tombstoned ? " tomb" : "") + '" data-nav href="' + esc(url("/topics/" + enc(t.topic))) + '"' +
              (t.tombstoned ? ' title="tombstoned"' : "") + ">" + esc(t.topic) + "</a>";
          }).join("") + "</td></tr>";
      });
      html += "</tbody></table></div>";
      return { html: html, messages: warningsOf(d) };
    });
  }

  function pageNode(node) {
    return api("GET", "/nodes/" + enc(node)).then(function (d) {
      var topics = d.topics || [];
      var html = crumbs([{ text: "Nodes", href: url("/nodes") }, { text: node }]) + "<h1>Node: " + esc(node) + "</h1>" +
        '<p class="summary"><strong>' + num(topics.length) + "</strong> Topics, <strong>" + num(d.total_messages) +
        "</strong> Messages, <strong>" + num(d.total_clients) + "</strong> Clients</p>";
      if (!topics.length) return { html: html + notice("This node has no topics."), messages: warningsOf(d) };
      topics.forEach(function (t) {
        var channels = t.channels || [];
        html += '<div class="panel"><table class="node-topic"><caption><a data-nav href="' + esc(url("/topics/" + enc(t.topic_name))) + '">' +
          esc(t.topic_name) + "</a>" + pausedLabel(t.paused) +
          (IS_ADMIN ? ' <button type="button" class="btn btn-small btn-danger" data-action="tombstone" data-topic="' + esc(t.topic_name) +
            '" aria-label="Tombstone ' + esc(t.topic_name) + ' on this node">✘</button>' : "") +
          '</caption><thead><tr><th scope="col">Channel</th><th scope="col">Depth</th><th scope="col">Memory + Disk</th><th scope="col">In-Flight</th>' +
          '<th scope="col">Deferred</th><th scope="col">Requeued</th><th scope="col">Timed Out</th><th scope="col">Messages</th><th scope="col">Connections</th></tr></thead><tbody>' +
          '<tr class="total"><th scope="row" class="text">(topic)</th>' + numCell(t.depth) + "<td>" + num(t.memory_depth) + " + " + num(t.backend_depth) +
          "</td><td></td><td></td><td></td><td></td>" + numCell(t.message_count) + numCell(channels.length) + "</tr>";
        channels.forEach(function (c) {
          html += '<tr><th scope="row" class="text"><a data-nav href="' + esc(url("/topics/" + enc(t.topic_name) + "/" + enc(c.channel_name))) + '">' +
            esc(c.channel_name) + "</a>" + pausedLabel(c.paused) + "</th>" + numCell(c.depth) + "<td>" + num(c.memory_depth) + " + " +
            num(c.backend_depth) + "</td>" + numCell(c.in_flight_count) + numCell(c.deferred_count) + numCell(c.requeue_count) +
            numCell(c.timeout_count) + numCell(c.message_count) + numCell(c.client_count) + "</tr>";
        });
        html += "</tbody></table>";
        channels.forEach(function (c) {
          if (c.clients && c.clients.length) html += "<h3>" + esc(c.channel_name) + " clients</h3>" + clientTable(c.clients, "clients-" + esc(t.topic_name) + "-" + esc(c.channel_name));
        });
        html += "</div>";
      });
      return {
        html: html, messages: warningsOf(d), actions: {
          "tombstone": function (el) {
            var topic = el.getAttribute("data-topic");
            return runAction("Tombstone topic " + topic + " on " + node + " (it is deleted there)?", "DELETE", "/nodes/" + enc(node), { topic: topic });
          }
        }
      };
    });
  }

  function pageLookup() {
    var html = "<h1>Lookup</h1>";
    if (!NSQLOOKUPD.length) {
      return Promise.resolve({ html: html + notice("No nsqlookupd configured: nsqadmin runs with --nsqd-http-address.") , messages: [] });
    }
    return api("GET", "/topics?inactive=true").then(function (d) {
      var topics = d.topics || {};
      var names = Object.keys(topics).sort();
      html += '<div class="panel"><h2>nsqlookupd Hosts</h2><ul>' + NSQLOOKUPD.map(function (h) { return "<li>" + esc(h) + "</li>"; }).join("") + "</ul></div>";
      html += '<div class="panel"><h2>Inactive Topics</h2>';
      if (!names.length) html += '<p class="muted">No inactive topics.</p>';
      else {
        html += '<ul class="tree" id="inactive">' + names.map(function (t) {
          return "<li>" + (IS_ADMIN ? '<button type="button" class="btn btn-small btn-danger" data-action="delete-inactive" data-topic="' + esc(t) +
            '" aria-label="Delete topic ' + esc(t) + '">✘</button> ' : "") + '<a data-nav href="' + esc(url("/topics/" + enc(t))) + '">' + esc(t) + "</a>" +
            (topics[t].length ? "<ul>" + topics[t].map(function (c) {
              return "<li>" + (IS_ADMIN ? '<button type="button" class="btn btn-small btn-danger" data-action="delete-inactive" data-topic="' + esc(t) +
                '" data-channel="' + esc(c) + '" aria-label="Delete channel ' + esc(c) + '">✘</button> ' : "") + esc(c) + "</li>";
            }).join("") + "</ul>" : "") + "</li>";
        }).join("") + "</ul>";
      }
      html += "</div>";
      if (IS_ADMIN) {
        html += '<div class="panel"><h2>Create Topic/Channel</h2>' +
          '<form class="create" id="create-form" data-keep><label>Topic<input name="topic" id="create-topic" required maxlength="64" autocomplete="off"></label>' +
          '<label>Channel (optional)<input name="channel" id="create-channel" maxlength="64" autocomplete="off"></label>' +
          '<button class="btn btn-primary" type="submit">Create</button></form>' +
          '<p class="muted">Creates the topic (and channel) in every nsqlookupd; nsqd learn about it when it is first used.</p></div>';
      }
      return {
        html: html, messages: warningsOf(d), actions: {
          "delete-inactive": function (el) {
            var t = el.getAttribute("data-topic"), c = el.getAttribute("data-channel");
            var path = "/topics/" + enc(t) + (c ? "/" + enc(c) : "");
            return runAction("Delete " + (c ? "channel " + t + "/" + c : "topic " + t) + "?", "DELETE", path);
          }
        }
      };
    });
  }

  // The counter polls on its own schedule: fast at first, then slower.
  var counterState = { shown: 0, target: 0, anim: null, last: null, rate: null };
  function animateCounter() {
    var el = document.getElementById("counter-value");
    if (!el) { counterState.anim = null; return; }
    var diff = counterState.target - counterState.shown;
    counterState.shown += Math.abs(diff) < 1 ? diff : diff * 0.15;
    el.textContent = num(Math.round(counterState.shown));
    counterState.anim = Math.abs(counterState.target - counterState.shown) >= 0.5 ? requestAnimationFrame(animateCounter) : null;
  }
  function pageCounter() {
    return Promise.all([api("GET", "/counter"), history()]).then(function (r) {
      var d = r[0], samples = r[1];
      var total = 0;
      Object.keys(d.stats || {}).forEach(function (k) { total += d.stats[k].message_count || 0; });
      var now = Date.now();
      if (counterState.last && total >= counterState.last.total && now > counterState.last.at) {
        counterState.rate = (total - counterState.last.total) * 1000 / (now - counterState.last.at);
      }
      counterState.last = { total: total, at: now };
      var first = !document.getElementById("counter-value");
      counterState.target = total;
      if (first) counterState.shown = total;
      var html = '<div class="counter"><div class="big" id="counter-value" aria-live="off">' + num(Math.round(counterState.shown)) + "</div>" +
        '<div class="sub">Messages Processed</div><div class="sub" id="counter-rate">' +
        (counterState.rate === null ? "" : esc(num(Math.round(counterState.rate * 10) / 10)) + " msgs/sec") + "</div></div>" +
        chartsHtml(samples, "Messages processed/s", "Queued (cluster)");
      if (graphsOn()) {
        html += graphiteImg("Messages processed/s", "sumSeries(" + wrap(STATSD_COUNTER_FORMAT, statsdPrefix("*") + "topic.*.channel.*.message_count") + ")", true);
      }
      return {
        html: html, messages: warningsOf(d), keepCounter: true, after: function () {
          if (!counterState.anim) counterState.anim = requestAnimationFrame(animateCounter);
        }
      };
    });
  }

  // ---------- routing, rendering, refresh ----------

  function route() {
    var path = location.pathname;
    if (PREFIX && path.indexOf(PREFIX) === 0) path = path.slice(PREFIX.length);
    var parts = path.split("/").filter(function (p) { return p !== ""; }).map(function (p) {
      try { return decodeURIComponent(p); } catch (e) { return p; }
    });
    if (!parts.length || (parts[0] === "topics" && parts.length === 1)) return { section: "topics", load: pageTopics };
    if (parts[0] === "topics" && parts.length === 2) return { section: "topics", load: function () { return pageTopic(parts[1]); } };
    if (parts[0] === "topics" && parts.length === 3) return { section: "topics", load: function () { return pageChannel(parts[1], parts[2]); } };
    if (parts[0] === "nodes" && parts.length === 1) return { section: "nodes", load: pageNodes };
    if (parts[0] === "nodes" && parts.length === 2) return { section: "nodes", load: function () { return pageNode(parts[1]); } };
    if (parts[0] === "counter") return { section: "counter", load: pageCounter, interval: counterInterval };
    if (parts[0] === "lookup") return { section: "lookup", load: pageLookup };
    return { section: "", load: function () { return Promise.resolve({ html: "<h1>Not found</h1>" + notice("No such page."), messages: [] }); } };
  }

  var counterPolls = 0;
  function counterInterval() {
    counterPolls++;
    return Math.min(10000, 100 + (counterPolls - 1) * 1000);
  }
  function refreshSeconds() {
    try {
      var v = localStorage.getItem("nsqadmin.refresh");
      if (v !== null && !isNaN(+v)) return +v;
    } catch (e) { /* storage unavailable */ }
    return REFRESH_INTERVAL;
  }

  function render(result) {
    setPageMessages(result.messages || []);
    state.page.actions = result.actions || {};
    if (result.html !== state.lastHtml) {
      // Keep keyboard focus and form input across a refresh.
      var active = document.activeElement, focusKey = null, formValues = {};
      if (active && content.contains(active)) {
        focusKey = active.id || active.getAttribute("data-action") + "|" + (active.getAttribute("data-node") || active.getAttribute("data-topic") || "") +
          "|" + (active.getAttribute("data-channel") || "") + "|" + (active.getAttribute("href") || "");
      }
      Array.prototype.forEach.call(content.querySelectorAll("input[id]"), function (i) { formValues[i.id] = i.value; });
      content.innerHTML = result.html;
      state.lastHtml = result.html;
      Object.keys(formValues).forEach(function (id) { var i = document.getElementById(id); if (i) i.value = formValues[id]; });
      if (focusKey) {
        var all = content.querySelectorAll("a, button, input, select");
        for (var k = 0; k < all.length; k++) {
          var el = all[k];
          var key = el.id || el.getAttribute("data-action") + "|" + (el.getAttribute("data-node") || el.getAttribute("data-topic") || "") +
            "|" + (el.getAttribute("data-channel") || "") + "|" + (el.getAttribute("href") || "");
          if (key === focusKey) { el.focus(); break; }
        }
      }
    }
    if (result.after) result.after();
    updated.textContent = "updated " + new Date().toLocaleTimeString();
    document.body.setAttribute("data-loaded", String(state.generation));
  }

  function refresh() {
    var page = state.page, gen = state.generation;
    if (!page) return Promise.resolve();
    if (page.inflight) return page.inflight;
    page.inflight = page.load().then(function (result) {
      if (gen === state.generation) render(result);
    }, function (err) {
      if (gen !== state.generation) return;
      setPageMessages([{ kind: "error", text: err.message }]);
      if (!state.lastHtml) {
        content.innerHTML = '<p class="muted">Could not load this page.</p>';
        state.lastHtml = content.innerHTML;
      }
      updated.textContent = "update failed " + new Date().toLocaleTimeString();
      document.body.setAttribute("data-loaded", String(state.generation));
    }).then(function () { page.inflight = null; });
    return page.inflight;
  }

  function schedule() {
    clearTimeout(state.timer);
    var page = state.page;
    var delay = page.interval ? page.interval() : refreshSeconds() * 1000;
    if (!delay) return;
    state.timer = setTimeout(function () {
      var busy = document.hidden || (dialog && dialog.open);
      (busy ? Promise.resolve() : refresh()).then(function () { if (page === state.page) schedule(); });
    }, delay);
  }

  function start() {
    state.generation++;
    counterPolls = 0;
    var r = route();
    state.page = { load: r.load, interval: r.interval, actions: {}, inflight: null };
    state.lastHtml = "";
    banners.action = [];
    document.body.removeAttribute("data-loaded");
    Array.prototype.forEach.call(document.querySelectorAll(".links a"), function (a) {
      if (a.getAttribute("data-section") === r.section) a.setAttribute("aria-current", "page");
      else a.removeAttribute("aria-current");
    });
    content.innerHTML = '<p class="muted">Loading…</p>';
    refresh().then(function () {
      var h = content.querySelector("h1");
      document.title = (h ? h.textContent + " · " : "") + "nsqadmin";
      schedule();
    });
  }

  function navigate(href) {
    history_push(href);
    start();
    document.getElementById("main").focus();
  }
  function history_push(href) { window.history.pushState({}, "", href); }

  // ---------- events ----------

  document.addEventListener("click", function (ev) {
    if (ev.defaultPrevented || ev.button !== 0 || ev.metaKey || ev.ctrlKey || ev.shiftKey || ev.altKey) return;
    var el = ev.target.closest ? ev.target.closest("a[data-nav], button[data-action]") : null;
    if (!el) return;
    if (el.tagName === "A") {
      ev.preventDefault();
      navigate(el.getAttribute("href"));
      return;
    }
    var handler = state.page && state.page.actions[el.getAttribute("data-action")];
    if (handler) {
      ev.preventDefault();
      handler(el);
    }
  });
  document.addEventListener("submit", function (ev) {
    if (ev.target && ev.target.id === "create-form") {
      ev.preventDefault();
      var topic = document.getElementById("create-topic").value.trim();
      var channel = document.getElementById("create-channel").value.trim();
      var what = channel ? "topic " + topic + " with channel " + channel : "topic " + topic;
      runAction("Create " + what + "?", "POST", "/topics", { topic: topic, channel: channel }, function () {
        actionBanner("info", "Created " + what + ".");
        document.getElementById("create-topic").value = "";
        document.getElementById("create-channel").value = "";
        refresh();
      });
    }
  });
  window.addEventListener("popstate", start);
  document.addEventListener("visibilitychange", function () { if (!document.hidden && state.page) refresh(); });

  // Navigation links are relative to the base path.
  Array.prototype.forEach.call(document.querySelectorAll("header a[data-nav]"), function (a) {
    var h = a.getAttribute("href");
    a.setAttribute("href", h ? url("/" + h) : home());
  });
  document.getElementById("version").textContent = "v" + VERSION;
  var refreshSelect = document.getElementById("refresh-interval");
  refreshSelect.value = String(refreshSeconds());
  refreshSelect.addEventListener("change", function () {
    try { localStorage.setItem("nsqadmin.refresh", refreshSelect.value); } catch (e) { /* ignore */ }
    schedule();
  });
  if (GRAPH_ENABLED) {
    var gi = document.getElementById("graph-interval");
    document.getElementById("graph-interval-tool").hidden = false;
    gi.value = graphInterval;
    gi.addEventListener("change", function () {
      graphInterval = gi.value;
      try { localStorage.setItem("nsqadmin.graph_interval", graphInterval); } catch (e) { /* ignore */ }
      state.lastHtml = "";
      refresh();
    });
  }
  start();
})();
