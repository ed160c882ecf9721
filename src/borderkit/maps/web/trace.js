/* borderkit trace tool (MIT): the sheet frames of georeferenced scans, and a tool to trace a line
 * over a scan and export it as a lines GeoJSON in borderkit's LINES schema.
 *
 * Reads data.trace = {tool: bool, scans: [record, ...]} from the page's JSON block (records made by
 * borderkit.maps.trace). Safety rule as in borderkit.js: no string from the data or the form is ever
 * parsed as HTML — text goes into the DOM with textContent, tooltips receive DOM nodes, and the
 * export is JSON.stringify of a plain object.
 */
var borderkit_trace = (function () {
  "use strict";

  var ISO3 = /^[A-Z]{3}$/;
  var CLAIMANT = /^(cartographic|[A-Z]{3}(;[A-Z]{3})*)$/;
  var YEAR = /^[0-9]{4}$/;
  var DATE = /^[0-9]{4}(-[0-9]{2}(-[0-9]{2})?)?$/;
  var LINE_ID = /^[A-Za-z0-9][A-Za-z0-9._-]{0,80}$/;
  var DIGITS = 7; /* decimal degrees kept: 1e-7° is about 1 cm */

  function el(tag, cls, text) {
    var e = document.createElement(tag);
    if (cls) { e.className = cls; }
    if (text !== undefined && text !== null) { e.textContent = String(text); }
    return e;
  }

  function drawFrames(map, scans) {
    var frames = [];
    scans.forEach(function (rec) {
      var frame = L.polygon(rec.frame, { color: "#7a3b00", weight: 2, dashArray: "6 4", fill: false,
                                         interactive: false, className: "bk-sheet-frame" });
      frame.addTo(map);
      var label = el("span", "bk-sheet-label");
      label.textContent = rec.sheet + " · 1:" + Number(rec.scale).toLocaleString("en");
      /* permanent tooltip at the frame's first (north-west) corner; content is a DOM node */
      L.tooltip({ permanent: true, direction: "right", className: "bk-sheet-tooltip", interactive: false })
        .setLatLng(rec.frame[0]).setContent(label).addTo(map);
      frames.push(frame);
    });
    return frames;
  }

  function field(form, id, labelText, value, help) {
    var wrap = el("div", "bk-trace-field");
    var lab = el("label", null, labelText);
    var input = el("input");
    input.type = "text";
    input.name = id;
    input.id = "bk-trace-" + id;
    input.value = value || "";
    input.autocomplete = "off";
    input.spellcheck = false;
    lab.htmlFor = input.id;
    wrap.appendChild(lab);
    wrap.appendChild(input);
    if (help) { wrap.appendChild(el("div", "bk-trace-help", help)); }
    form.appendChild(wrap);
    return input;
  }

  function traced(map) {
    /* the polylines drawn with the tool (not polygons), in drawing order */
    var out = [];
    map.eachLayer(function (layer) {
      if (layer instanceof L.Polyline && !(layer instanceof L.Polygon) && layer.bkTraced) { out.push(layer); }
    });
    return out;
  }

  function round(v) { var f = Math.pow(10, DIGITS); return Math.round(v * f) / f; }

  function lineCoords(layer) {
    var ll = layer.getLatLngs();
    if (ll.length && Array.isArray(ll[0])) { ll = ll[0]; }
    return ll.map(function (p) { return [round(p.lng), round(p.lat)]; });
  }

  /* The form's values checked; returns {errors: [...], values: {...}}. */
  function readForm(inputs) {
    var v = {};
    Object.keys(inputs).forEach(function (k) { v[k] = String(inputs[k].value || "").trim(); });
    v.claimant = v.claimant.toUpperCase() === "CARTOGRAPHIC" ? "cartographic" : v.claimant.toUpperCase();
    v.left_party = v.left_party.toUpperCase();
    v.right_party = v.right_party.toUpperCase();
    var errors = [];
    if (!LINE_ID.test(v.line_id)) { errors.push("line id: letters, digits, '.', '_', '-' (up to 81)"); }
    if (!v.name) { errors.push("name: give the line a name"); }
    if (!CLAIMANT.test(v.claimant)) { errors.push("claimant: ISO alpha-3 code(s) joined by ';', or 'cartographic'"); }
    if (!ISO3.test(v.left_party)) { errors.push("left party: an ISO alpha-3 code (e.g. ARM)"); }
    if (!ISO3.test(v.right_party)) { errors.push("right party: an ISO alpha-3 code (e.g. AZE)"); }
    if (v.left_party && v.left_party === v.right_party) { errors.push("left and right party must differ"); }
    if (!YEAR.test(v.edition)) { errors.push("edition year: four digits (printed in the sheet's collar)"); }
    if (v.source_date && !DATE.test(v.source_date)) { errors.push("date depicted: YYYY, YYYY-MM or YYYY-MM-DD"); }
    return { errors: errors, values: v };
  }

  /* The lines GeoJSON (a plain object) of the traced polylines, in borderkit's LINES schema. */
  function collection(rec, lines, v) {
    var features = lines.map(function (layer, i) {
      var id = lines.length > 1 ? v.line_id + "-" + (i + 1) : v.line_id;
      return {
        type: "Feature",
        properties: {
          line_id: id,
          name: lines.length > 1 ? v.name + " (" + (i + 1) + ")" : v.name,
          source: rec.sheet + " (edition " + v.edition + ")",
          source_version: v.edition,
          source_date: v.source_date || v.edition,
          scale_or_accuracy_m: rec.accuracy.total_m,
          licence: "user-traced",
          attribution: rec.attribution,
          claimant: v.claimant,
          left_party: v.left_party,
          right_party: v.right_party,
          section: "main",
          notes: rec.notes
        },
        geometry: { type: "LineString", coordinates: lineCoords(layer) }
      };
    });
    return { type: "FeatureCollection", features: features };  /* RFC 7946: EPSG:4326 lon/lat */
  }

  function download(text, filename) {
    var blob = new Blob([text], { type: "application/geo+json" });
    var a = document.createElement("a");
    a.href = URL.createObjectURL(blob);
    a.download = filename;
    document.body.appendChild(a);
    a.click();
    setTimeout(function () { URL.revokeObjectURL(a.href); a.remove(); }, 0);
  }

  function panel(map, scans, api) {
    var Ctl = L.Control.extend({
      options: { position: "bottomleft" },
      onAdd: function () {
        var box = el("div", "bk-trace leaflet-bar");
        L.DomEvent.disableClickPropagation(box);
        L.DomEvent.disableScrollPropagation(box);
        var title = el("div", "bk-trace-title", "Trace a line over the scan");
        box.appendChild(title);
        var form = el("form", "bk-trace-form");
        form.setAttribute("novalidate", "");
        var sel = el("select");
        sel.id = "bk-trace-scan";
        scans.forEach(function (rec, i) {
          var o = el("option", null, rec.sheet + " — " + rec.scan);
          o.value = String(i);
          sel.appendChild(o);
        });
        var sw = el("div", "bk-trace-field");
        var sl = el("label", null, "Sheet");
        sl.htmlFor = sel.id;
        sw.appendChild(sl);
        sw.appendChild(sel);
        form.appendChild(sw);
        var acc = el("div", "bk-trace-help");
        form.appendChild(acc);
        var inputs = {
          line_id: field(form, "line_id", "Line id", "traced-" + scans[0].sheet.replace(/[^A-Za-z0-9._-]/g, "")),
          name: field(form, "name", "Name", "Line traced on sheet " + scans[0].sheet),
          claimant: field(form, "claimant", "Claimant", "", "ISO alpha-3 (e.g. ARM), codes joined by ';', or cartographic"),
          left_party: field(form, "left_party", "Left party", "", "ISO alpha-3, left of the drawing direction"),
          right_party: field(form, "right_party", "Right party", "", "ISO alpha-3, right of the drawing direction"),
          edition: field(form, "edition", "Edition year", "", "printed in the sheet's collar"),
          source_date: field(form, "source_date", "Date depicted (optional)", "", "survey/update year if known; default the edition year")
        };
        function showAccuracy() {
          var rec = scans[Number(sel.value) || 0];
          acc.textContent = rec.accuracy_note + ". " + rec.datum_note + ".";
        }
        sel.addEventListener("change", showAccuracy);
        showAccuracy();
        var btn = el("button", "bk-trace-export", "Export lines GeoJSON");
        btn.type = "submit";
        form.appendChild(btn);
        var status = el("div", "bk-trace-status");
        status.setAttribute("role", "status");
        form.appendChild(status);
        form.addEventListener("submit", function (ev) {
          ev.preventDefault();
          var res = api.exportGeoJSON(Number(sel.value) || 0, inputs);
          status.textContent = res.message;
          status.className = "bk-trace-status " + (res.ok ? "bk-ok" : "bk-error");
          if (res.ok) { download(res.text, res.filename); }
        });
        box.appendChild(form);
        api.inputs = inputs;
        api.scanSelect = sel;
        return box;
      }
    });
    return new Ctl().addTo(map);
  }

  function build(map, data) {
    var t = (data && data.trace) || { tool: false, scans: [] };
    var api = { map: map, scans: t.scans || [], frames: [] };
    if (!api.scans.length) { return api; }
    api.frames = drawFrames(map, api.scans);
    if (!t.tool || !map.pm) { return api; }
    map.pm.addControls({
      position: "topleft",
      drawMarker: false, drawCircleMarker: false, drawPolygon: false, drawRectangle: false, drawCircle: false,
      drawText: false, cutPolygon: false, rotateMode: false, dragMode: false,
      drawPolyline: true, editMode: true, removalMode: true
    });
    map.on("pm:create", function (e) {
      if (e.layer instanceof L.Polyline && !(e.layer instanceof L.Polygon)) { e.layer.bkTraced = true; }
    });
    /* Export: returns {ok, message, text, filename, geojson}; used by the form and by tests. */
    api.exportGeoJSON = function (index, inputs) {
      var rec = api.scans[index || 0];
      var lines = traced(map);
      var f = readForm(inputs || api.inputs);
      if (!lines.length) { return { ok: false, message: "draw a line first (the polyline button, top left)" }; }
      var short = lines.filter(function (l) { return lineCoords(l).length < 2; });
      if (short.length) { return { ok: false, message: "a traced line has fewer than 2 points" }; }
      if (f.errors.length) { return { ok: false, message: f.errors.join("; ") }; }
      var gj = collection(rec, lines, f.values);
      var text = JSON.stringify(gj, null, 2) + "\n";
      return { ok: true, geojson: gj, text: text, filename: f.values.line_id + ".geojson",
               message: "exported " + lines.length + " line(s), accuracy " + rec.accuracy.total_m + " m" };
    };
    api.panel = panel(map, api.scans, api);
    return api;
  }

  return { build: build };
})();
