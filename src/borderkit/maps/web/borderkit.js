/* borderkit page script (MIT). Builds the map's layers, legend, credits, timeline and tools
 * from the JSON data block of the page.
 *
 * Safety rule: no string from the data is ever parsed as HTML. Every data string is put into
 * the DOM with textContent (inside <bdi> so that right-to-left overrides cannot leak), and a
 * link is made only for URLs that start with http:// or https:// (checked in Python and again
 * here). Leaflet popups and tooltips receive DOM nodes, never HTML strings.
 */
(function () {
  "use strict";

  var SAFE_URL = /^https?:\/\/[^\s<>"'`\\]+$/i;
  /* below this map width (px) the page is laid out for a phone or a narrow iframe */
  var COMPACT_PX = 700;
  /* popups pan clear of the title box and the legend (set for the map's width in build) */
  var POPUP = { maxWidth: 380, autoPanPaddingTopLeft: L.point(60, 90), autoPanPaddingBottomRight: L.point(360, 40) };

  function popupOptions(extra) { return L.extend({}, POPUP, extra || {}); }

  function setPopupFit(width) {
    if (width < COMPACT_PX) {
      POPUP = { maxWidth: Math.max(200, Math.min(380, width - 40)), autoPanPaddingTopLeft: L.point(10, 50),
                autoPanPaddingBottomRight: L.point(10, 60) };
    }
  }

  function el(tag, cls, text) {
    var e = document.createElement(tag);
    if (cls) { e.className = cls; }
    if (text !== undefined && text !== null) { e.textContent = String(text); }
    return e;
  }

  function bidi(text) {
    var b = document.createElement("bdi");
    b.textContent = text === undefined || text === null ? "" : String(text);
    return b;
  }

  function row(parent, label, value) {
    if (value === undefined || value === null || value === "") { return; }
    var d = el("div", "bk-row");
    d.appendChild(el("span", "bk-k", label + ": "));
    d.appendChild(bidi(value));
    parent.appendChild(d);
  }

  function link(rec) {
    if (rec.url && SAFE_URL.test(rec.url)) {
      var a = el("a", "bk-link");
      a.href = rec.url;
      a.rel = "noopener noreferrer nofollow";
      a.target = "_blank";
      a.appendChild(bidi(rec.text));
      return a;
    }
    var s = el("span", "bk-nolink");
    s.appendChild(bidi(rec.text));
    if (rec.url_text) {
      s.appendChild(document.createTextNode(" "));
      var u = el("span", "bk-badurl");
      u.appendChild(document.createTextNode("(not a web link: "));
      u.appendChild(bidi(rec.url_text));
      u.appendChild(document.createTextNode(")"));
      s.appendChild(u);
    }
    return s;
  }

  function fmt(x, digits) {
    if (x === null || x === undefined) { return ""; }
    return Number(x).toLocaleString("en-GB", { maximumFractionDigits: digits, minimumFractionDigits: digits });
  }

  function latlngs(parts) {
    return parts.map(function (part) {
      return part.map(function (c) { return [c[1], c[0]]; });
    });
  }

  function polyLatlngs(polygons) {
    return polygons.map(function (rings) { return latlngs(rings); });
  }

  function stop(container) {
    L.DomEvent.disableClickPropagation(container);
    L.DomEvent.disableScrollPropagation(container);
  }

  function swatchLine(style) {
    var ns = "http://www.w3.org/2000/svg";
    var svg = document.createElementNS(ns, "svg");
    svg.setAttribute("width", "34");
    svg.setAttribute("height", "12");
    svg.setAttribute("class", "bk-swatch");
    var l = document.createElementNS(ns, "line");
    l.setAttribute("x1", "1"); l.setAttribute("y1", "6"); l.setAttribute("x2", "33"); l.setAttribute("y2", "6");
    l.setAttribute("stroke", style.color);
    l.setAttribute("stroke-width", String(style.weight || 3));
    if (style.dashArray) { l.setAttribute("stroke-dasharray", style.dashArray); }
    svg.appendChild(l);
    return svg;
  }

  function swatchBox(style) {
    var s = el("span", "bk-box");
    s.style.background = style.fillColor || style.color;
    s.style.borderColor = style.color;
    s.style.opacity = "0.85";
    return s;
  }

  function swatchDot(color) {
    var s = el("span", "bk-dot");
    s.style.background = color;
    return s;
  }

  /* ---------------------------------------------------------------- popups */

  function linePopup(g, f) {
    var d = el("div", "bk-popup");
    d.appendChild(el("div", "bk-h", "Line"));
    row(d, "source", g.source);
    row(d, "title", g.meta.title);
    row(d, "name", f.name);
    row(d, "section", f.section);
    row(d, "claimant", f.claimant);
    row(d, "left / right party", (f.left || "?") + " / " + (f.right || "?"));
    row(d, "source date", f.date);
    row(d, "version", f.version);
    row(d, "accuracy", g.accuracy_m === null ? "" : "± " + fmt(g.accuracy_m, 0) + " m");
    row(d, "licence", f.licence || g.meta.licence);
    return d;  /* no internal id, no research notes: they stay in the data */
  }

  function areaPopup(a) {
    var d = el("div", "bk-popup");
    if (a.kind === "overlap") {
      d.appendChild(el("div", "bk-h", "Overlap within one source"));
      row(d, "source", a.source_a);
      row(d, "assigned to both", a.party_a + " and " + a.party_b);
    } else {
      d.appendChild(el("div", "bk-h", "Sources disagree"));
      row(d, a.source_a + " assigns it to", a.party_a);
      row(d, a.source_b + " assigns it to", a.party_b);
    }
    row(d, "area", fmt(a.area_km2, 2) + " km² (WGS84 ellipsoid)");
    return d;
  }

  function incidentPopup(r) {
    var d = el("div", "bk-popup");
    var h = el("div", "bk-h");
    h.appendChild(bidi(r.type || "incident"));
    d.appendChild(h);
    row(d, "date", r.date_text || r.date_label);
    row(d, "place", r.place_name);
    row(d, "location", r.location_text);
    var desc = el("div", "bk-desc");
    desc.appendChild(bidi(r.description));
    d.appendChild(desc);
    row(d, "actors", r.actors);
    row(d, "reported numbers", r.reported_claims);
    if (r.sources && r.sources.length) {
      d.appendChild(el("div", "bk-k", "sources:"));
      var ul = el("ul", "bk-sources");
      r.sources.forEach(function (s) {
        var li = el("li");
        li.appendChild(link(s));
        ul.appendChild(li);
      });
      d.appendChild(ul);
    }
    if (r.sides && r.sides.length) {
      d.appendChild(el("div", "bk-k", "distance to each line:"));
      var us = el("ul", "bk-sides");
      var unsure = false;
      r.sides.forEach(function (sd) {
        us.appendChild(el("li", "", sd.text));
        if (sd.party && !sd.determinate) { unsure = true; }
      });
      d.appendChild(us);
      if (unsure) {
        d.appendChild(el("div", "bk-note", "Side uncertain: the incident is nearer the line than its location " +
                                          "uncertainty and the line's stated accuracy added together."));
      }
    }
    return d;  /* no internal id: it stays in the data */
  }

  function placeNames(parent, names) {
    names.forEach(function (n) {
      var line = el("div", "bk-name");
      line.appendChild(el("span", "bk-lang", n.lang));
      line.appendChild(document.createTextNode(" "));
      line.appendChild(bidi(n.name));
      parent.appendChild(line);
    });
  }

  function placePopup(p) {
    var d = el("div", "bk-popup");
    d.appendChild(el("div", "bk-h", p.kind));
    placeNames(d, p.names);
    if (p.elevation_m !== null && p.elevation_m !== undefined) {
      row(d, "elevation", fmt(p.elevation_m, 0) + " m");
      row(d, "elevation source", p.elevation_source);
    }
    row(d, "coordinates source", p.coord_source);
    return d;  /* no internal id, no research notes */
  }

  function placeLabel(p) {
    var d = el("div", "bk-plabel");
    if (p.label) {
      /* one language on the map (the chosen one, else the first with a name); all of them in the popup */
      var line = el("div", "bk-name");
      var b = bidi(p.label.name);
      if (p.label.lang) { b.setAttribute("lang", p.label.lang); }
      line.appendChild(b);
      d.appendChild(line);
    } else {
      placeNames(d, p.names);
    }
    if (p.kind === "peak" && p.elevation_m !== null && p.elevation_m !== undefined) {
      var e = el("div", "bk-elev");
      e.appendChild(document.createTextNode(fmt(p.elevation_m, 0) + " m · "));
      e.appendChild(bidi(p.elevation_source_short || "source unknown"));
      d.appendChild(e);
    }
    return d;
  }

  function measureLabel(m) {
    var d = el("div", "bk-mlabel");
    if (m.label) {
      var w = el("div", "bk-mwhat");
      w.appendChild(bidi(m.label));
      d.appendChild(w);
    }
    var v = el("div", "bk-mvalue");
    v.appendChild(bidi(m.value_text));
    if (m.line_source) {
      v.appendChild(document.createTextNode(" · line: "));
      v.appendChild(bidi(m.line_source));
    }
    d.appendChild(v);
    if (m.range_text) {
      var r = el("div", "bk-mrange");
      r.appendChild(bidi(m.range_text));
      d.appendChild(r);
    }
    return d;
  }

  var CLAIM_ROWS = [
    ["claimed", "claimed"], ["reading", "reading"], ["verdict", "verdict"], ["accept", "consistent if"],
    ["reach", "reach test"], ["claim_verdict", "verdict over all readings and sources"],
    ["all_sources", "this reading on every source"], ["other_readings", "other readings"],
    ["method", "method"], ["note", "note"], ["features", "measured between"]
  ];

  function measurePopup(m) {
    var d = el("div", "bk-popup");
    d.appendChild(el("div", "bk-h", "Measurement"));
    row(d, "what", m.label);
    row(d, "quantity", m.quantity);
    row(d, "measured", m.value_text);
    row(d, "line source", m.line_source);
    row(d, "all line sources", m.range_text);
    var claims = m.claims && m.claims.length ? m.claims
      : [{ statement: m.statement, claimed: m.claimed, method: m.method }];
    claims.forEach(function (c) {
      var box = el("div", "bk-claim");
      var h = el("div", "bk-ch");
      h.appendChild(document.createTextNode("Claim"));
      if (c.id) { h.appendChild(document.createTextNode(" ")); h.appendChild(bidi(c.id)); }
      box.appendChild(h);
      if (c.statement) {
        var q = el("div", "bk-quote");
        q.appendChild(bidi(c.statement));
        box.appendChild(q);
      }
      CLAIM_ROWS.forEach(function (pair) { row(box, pair[1], c[pair[0]]); });
      d.appendChild(box);
    });
    return d;
  }

  function viewshedPopup(v) {
    var pop = el("div", "bk-popup");
    pop.appendChild(el("div", "bk-h", "Viewshed"));
    var name = el("div", "bk-quote");
    name.appendChild(bidi(v.label || "observer"));
    pop.appendChild(name);
    row(pop, "visible area", fmt(v.area_km2, 1) + " km² (WGS84 ellipsoid)");
    row(pop, "observer height", v.observer_height_m === null ? "" : fmt(v.observer_height_m, 1) + " m");
    row(pop, "method", v.method);
    (v.details || []).forEach(function (p) { row(pop, p[0] || "note", p[1]); });
    return pop;
  }

  /* ---------------------------------------------------------------- controls */

  var Box = L.Control.extend({
    options: { position: "topright", className: "" },
    initialize: function (node, options) { L.setOptions(this, options); this._node = node; },
    onAdd: function () {
      var c = el("div", "leaflet-control bk-control " + this.options.className);
      c.appendChild(this._node);
      stop(c);
      return c;
    },
    /* put the node back in its own box (it may have been lent to the compact panel) */
    reclaim: function () {
      if (this._container && this._node.parentNode !== this._container) { this._container.appendChild(this._node); }
    }
  });

  function details(summary, open, cls) {
    var d = el("details", cls || "");
    if (open) { d.open = true; }
    d.appendChild(el("summary", "", summary));
    return d;
  }

  function buildLegend(data) {
    var d = details("Legend", true, "bk-legend");
    var cx = data.context;
    if (cx && cx.countries && cx.countries.length) {
      d.appendChild(el("div", "bk-lh", "Countries"));
      var keys = el("div", "bk-countries");
      cx.countries.forEach(function (c) {
        var item = el("span", "bk-li bk-country-key");
        item.appendChild(swatchBox({ color: cx.style.color, fillColor: c.fill, fillOpacity: 1 }));
        item.appendChild(bidi(c.name));
        keys.appendChild(item);
      });
      d.appendChild(keys);
      var note = el("div", "bk-ls");
      note.appendChild(document.createTextNode("Fills and names: the territories of one source, "));
      note.appendChild(bidi(cx.source));
      note.appendChild(document.createTextNode(" (the first by name), for orientation only; the lines show where the sources differ."));
      d.appendChild(note);
      (cx.lakes || []).forEach(function (w) {
        var item = el("div", "bk-li");
        item.appendChild(swatchBox({ color: cx.water_style.color, fillColor: cx.water_style.fillColor }));
        var t = el("span", "bk-ls");
        t.appendChild(bidi(w.name));
        t.appendChild(document.createTextNode(": water as "));
        t.appendChild(bidi(w.source));
        t.appendChild(document.createTextNode(" leaves it out of the land (" + fmt(w.area_km2, 2) + " km², " +
                                              w.vertices + " vertices: a coarse outline)"));
        item.appendChild(t);
        d.appendChild(item);
      });
    }
    if (data.lines.length) {
      d.appendChild(el("div", "bk-lh", "Lines (one layer per source)"));
      data.lines.forEach(function (g) {
        var item = el("div", "bk-li");
        item.setAttribute("data-source", g.source);
        item.appendChild(swatchLine(g.style));
        var t = el("div", "bk-lt");
        var n = el("div", "bk-ln");
        n.appendChild(bidi(g.source));
        t.appendChild(n);
        var bits = [];
        if (g.meta.title) { bits.push(g.meta.title); }
        if (g.date) { bits.push("date " + g.date); }
        if (g.accuracy_m !== null && g.accuracy_m !== undefined) { bits.push("± " + fmt(g.accuracy_m, 0) + " m"); }
        if (g.meta.licence) { bits.push(g.meta.licence); }
        var s = el("div", "bk-ls");
        s.appendChild(bidi(bits.join(" · ")));
        t.appendChild(s);
        item.appendChild(t);
        d.appendChild(item);
      });
    }
    if (data.areas.length || (data.area_totals && data.area_totals.length)) {
      d.appendChild(el("div", "bk-lh", "Areas (km² on the WGS84 ellipsoid)"));
      var kinds = {};
      data.areas.forEach(function (a) { kinds[a.kind] = true; });
      if (kinds.disagreement) {
        var i1 = el("div", "bk-li");
        i1.appendChild(swatchBox(data.styles.disagreement));
        i1.appendChild(el("span", "", "two sources assign to different parties"));
        d.appendChild(i1);
      }
      if (kinds.overlap) {
        var i2 = el("div", "bk-li");
        i2.appendChild(swatchBox(data.styles.overlap));
        i2.appendChild(el("span", "", "one source assigns to two parties"));
        d.appendChild(i2);
      }
      var totals = details("Area by pair of sources (" + (data.area_totals || []).length + ")", false, "bk-totals");
      d.appendChild(totals);
      (data.area_totals || []).forEach(function (s) {
        var t = el("div", "bk-ls bk-total");
        var txt = s.kind === "overlap"
          ? s.source_a + ": " + s.party_a + " & " + s.party_b
          : s.source_a + " " + s.party_a + " / " + s.source_b + " " + s.party_b;
        t.appendChild(bidi(txt));
        t.appendChild(document.createTextNode(" — " + fmt(s.area_km2, 1) + " km² in " + s.parts + " part(s)"));
        totals.appendChild(t);
      });
    }
    if (data.incidents.length) {
      d.appendChild(el("div", "bk-lh", "Incidents (ring: location uncertainty)"));
      data.incident_types.forEach(function (t) {
        var item = el("div", "bk-li");
        item.setAttribute("data-incident-type", t.type);
        item.appendChild(swatchDot(t.color));
        item.appendChild(bidi(t.type));
        d.appendChild(item);
      });
    }
    if (data.places.length) {
      var ip = el("div", "bk-li");
      ip.appendChild(el("span", "bk-peak-sym", "▲"));
      ip.appendChild(el("span", "", "peak: height · source; label in one language, every name in the popup"));
      d.appendChild(ip);
    }
    if (data.measurements.length) {
      var im = el("div", "bk-li");
      im.appendChild(swatchLine(data.styles.measurement));
      im.appendChild(el("span", "", "measurement: what · value · line source"));
      d.appendChild(im);
      if (data.notes.measurements) {
        var nm = el("div", "bk-ls bk-mnote");
        nm.appendChild(bidi(data.notes.measurements));
        d.appendChild(nm);
      }
    }
    data.viewsheds.forEach(function (v) {
      var iv = el("div", "bk-li");
      iv.setAttribute("data-viewshed", v.key);
      iv.appendChild(swatchBox(data.styles.viewshed));
      var t = el("div", "bk-lt");
      var n = el("div");
      n.appendChild(bidi(v.label || "visible from the observer"));
      t.appendChild(n);
      var s = el("div", "bk-ls");
      s.appendChild(document.createTextNode("visible ground, " + fmt(v.area_km2, 0) + " km²" +
        (v.show ? "" : " · layer off: switch it on in the layer control")));
      t.appendChild(s);
      iv.appendChild(t);
      d.appendChild(iv);
    });
    d.appendChild(el("div", "bk-note", data.notes.disclaimer));
    return d;
  }

  function buildCredits(data) {
    var d = details("Sources & licences", false, "bk-credits");
    var ul = el("ul");
    data.credits.forEach(function (c) {
      var li = el("li");
      li.setAttribute("data-source", c.name);
      var head = el("b");
      head.appendChild(bidi(c.name));
      li.appendChild(head);
      var bits = [];
      if (c.title) { bits.push(c.title); }
      if (c.version) { bits.push("version " + c.version); }
      if (c.licence) { bits.push("licence: " + c.licence); }
      if (bits.length) { li.appendChild(document.createTextNode(" — ")); li.appendChild(bidi(bits.join("; "))); }
      if (c.attribution) {
        var a = el("div", "bk-attr");
        a.appendChild(bidi(c.attribution));
        li.appendChild(a);
      }
      if (c.url) {
        var u = el("div");
        u.appendChild(link({ text: c.url, url: c.url }));
        li.appendChild(u);
      }
      ul.appendChild(li);
    });
    d.appendChild(el("div", "bk-lh", "Data"));
    d.appendChild(ul);
    if (data.basemaps.length) {
      d.appendChild(el("div", "bk-lh", "Basemaps"));
      var ub = el("ul");
      data.basemaps.forEach(function (b) {
        var li = el("li");
        li.appendChild(el("b", "", b.name));
        li.appendChild(document.createTextNode(" — " + b.credit + " "));
        li.appendChild(link({ text: b.url, url: b.url }));
        ub.appendChild(li);
      });
      d.appendChild(ub);
    }
    if (data.overlay_credits.length) {
      d.appendChild(el("div", "bk-lh", "Images"));
      var ui = el("ul");
      data.overlay_credits.forEach(function (o) {
        var li = el("li");
        li.appendChild(bidi(o.name));
        var bits = [];
        if (o.attribution) { bits.push(o.attribution); }
        bits.push("licence: " + (o.licence || "not stated"));
        if (o.note) { bits.push(o.note); }
        li.appendChild(document.createTextNode(" — "));
        li.appendChild(bidi(bits.join("; ")));
        ui.appendChild(li);
      });
      d.appendChild(ui);
    }
    d.appendChild(el("div", "bk-lh", "Software"));
    var us = el("ul");
    data.software.forEach(function (s) {
      var li = el("li");
      li.appendChild(document.createTextNode(s.name + " " + s.version + " (" + s.licence + ") "));
      li.appendChild(link({ text: s.url, url: s.url }));
      us.appendChild(li);
    });
    d.appendChild(us);
    d.appendChild(el("div", "bk-note", data.notes.simplification));
    return d;
  }

  function buildTimeline(map, group, items, data) {
    var dates = [];
    items.forEach(function (it) { if (it.rec.date && dates.indexOf(it.rec.date) < 0) { dates.push(it.rec.date); } });
    dates.sort();
    var box = el("div", "bk-timeline");
    var label = el("div", "bk-tl-label");
    var input = el("input");
    input.type = "range";
    input.min = "0";
    input.max = String(Math.max(dates.length - 1, 0));
    input.step = "1";
    input.value = input.max;
    input.setAttribute("aria-label", "Show incidents up to this date");
    box.appendChild(el("div", "bk-lh", "Timeline"));
    box.appendChild(input);
    box.appendChild(label);
    var state = { visible: 0, dates: dates, onchange: null };

    function apply() {
      var i = Number(input.value);
      var limit = dates.length ? dates[i] : "";
      var n = 0;
      items.forEach(function (it) {
        var show = !it.rec.date || !limit || it.rec.date <= limit;
        if (show) {
          n += 1;
          if (!group.hasLayer(it.marker)) { group.addLayer(it.halo); group.addLayer(it.marker); }
        } else if (group.hasLayer(it.marker)) {
          group.removeLayer(it.marker);
          group.removeLayer(it.halo);
        }
      });
      state.visible = n;
      box.setAttribute("data-visible", String(n));
      label.textContent = (limit ? "up to " + limit + ": " : "") + n + " of " + items.length + " incidents";
      input.setAttribute("aria-valuetext", label.textContent);
      if (state.onchange) { state.onchange(); }
    }
    input.addEventListener("input", apply);
    input.addEventListener("change", apply);
    state.date = function () { return dates.length ? dates[Number(input.value)] : ""; };
    state.setDate = function (d) {
      var i = dates.indexOf(d);
      if (i >= 0) { input.value = String(i); apply(); }
    };
    apply();
    new Box(box, { position: "bottomleft", className: "bk-timeline-control" }).addTo(map);
    return state;
  }

  function buildOpacity(map, overlays, list) {
    if (!list.length) { return; }
    var box = el("div", "bk-opacity");
    box.appendChild(el("div", "bk-lh", "Image opacity"));
    list.forEach(function (o) {
      var layer = overlays[o.key];
      if (!layer) { return; }
      var lab = el("label", "bk-op-row");
      var name = el("span", "bk-op-name");
      name.appendChild(bidi(o.name));
      var input = el("input");
      input.type = "range";
      input.min = "0";
      input.max = "100";
      input.step = "5";
      input.value = String(Math.round(o.opacity * 100));
      input.setAttribute("data-overlay", o.key);
      input.setAttribute("aria-label", "Opacity of " + String(o.name));
      input.addEventListener("input", function () { layer.setOpacity(Number(input.value) / 100); });
      lab.appendChild(name);
      lab.appendChild(input);
      box.appendChild(lab);
    });
    return new Box(box, { position: "bottomleft", className: "bk-opacity-control" }).addTo(map);
  }

  function buildMouse(map) {
    var box = el("div", "bk-mouse", "lat —, lon —");
    map.on("mousemove", function (e) {
      box.textContent = "lat " + e.latlng.lat.toFixed(5) + "°, lon " + e.latlng.wrap().lng.toFixed(5) + "°";
    });
    new Box(box, { position: "bottomright", className: "bk-mouse-control" }).addTo(map);
  }

  function escapeHtml(text) {
    var d = document.createElement("div");
    d.textContent = String(text);
    return d.innerHTML;  /* text-node serialisation: &, <, > escaped; used in text context only */
  }

  function buildLayerControl(map, refs, data) {
    /* Leaflet's layer control inserts a name with innerHTML: every name is escaped first. Layers are
       added one by one (not as an object keyed by name), so a name such as "__proto__" is just text. */
    var lc = data.layer_control;
    if (!lc) { return; }
    var control = L.control.layers(null, null, { position: "topright", collapsed: lc.collapsed !== false,
                                                 autoZIndex: true });
    var label = function (name) { return "<bdi>" + escapeHtml(name) + "</bdi>"; };
    lc.bases.forEach(function (it) {
      var layer = (refs.bases || {})[it.key];
      if (layer) { control.addBaseLayer(layer, label(it.name)); }
    });
    lc.overlays.forEach(function (it) {
      var layer = refs.groups[it.key] || refs.overlays[it.key];
      if (layer) { control.addOverlay(layer, label(it.name)); }
    });
    control.addTo(map);
    return control;
  }

  function buildAttribution(map, data) {
    /* Leaflet's attribution line takes HTML: every piece is escaped first. */
    if (!map.attributionControl || !data.credits.length) { return; }
    var lineSources = data.lines.map(function (g) { return g.source; });
    var parts = data.credits.filter(function (c) { return lineSources.indexOf(c.name) >= 0; }).map(function (c) {
      var osm = /odbl/i.test(c.licence + " " + c.attribution) ? " (© OpenStreetMap contributors, ODbL)" : "";
      return escapeHtml(c.name + osm);
    });
    if (!parts.length) { return; }
    var full = "Lines: " + parts.join(", ") + "; all sources: see Sources &amp; licences";
    var compact = "Lines: " + parts.join(", ") + "; sources: see Key";
    var current = null;
    /* the compact layout (phone, iframe) gets the short line; the credits are one tap away */
    return function (isCompact) {
      var want = isCompact ? compact : full;
      if (want === current) { return; }
      if (current) { map.attributionControl.removeAttribution(current); }
      map.attributionControl.addAttribution(want);
      current = want;
    };
  }

  function buildTitle(map, data) {
    var box = el("div", "bk-title");
    box.setAttribute("role", "heading");
    box.setAttribute("aria-level", "1");
    var main = el("div", "bk-title-main", data.title);
    main.setAttribute("title", String(data.title));  /* the whole title where the phone layout cuts it */
    box.appendChild(main);
    if (data.subtitle) { box.appendChild(el("div", "bk-title-sub", data.subtitle)); }
    map.getContainer().appendChild(box);
    L.DomEvent.disableClickPropagation(box);
    return box;
  }

  /* ---- inset locator: the parties' outlines (the page's country fills) and the view's rectangle ----
     An SVG drawn from the page's own data (no tiles, works offline, same bytes every time), in Web
     Mercator like the map, over the box of the country fills (the frame of the case). The rectangle
     follows every move; its box in degrees is also on the element (data-west … data-north). */
  var INSET_W = 160;

  function buildInset(map, data) {
    var cx = data.context;
    if (!cx || !cx.countries || !cx.countries.length) { return null; }
    var proj = L.Projection.SphericalMercator;
    var lo = [Infinity, Infinity], hi = [-Infinity, -Infinity];
    var projected = cx.countries.map(function (c) {
      return c.polygons.map(function (rings) {
        return rings.map(function (ring) {
          return ring.map(function (q) {
            var pt = proj.project(L.latLng(q[1], q[0]));
            lo = [Math.min(lo[0], pt.x), Math.min(lo[1], pt.y)];
            hi = [Math.max(hi[0], pt.x), Math.max(hi[1], pt.y)];
            return pt;
          });
        });
      });
    });
    var k = INSET_W / (hi[0] - lo[0]);
    var h = Math.max(40, Math.min(140, Math.round((hi[1] - lo[1]) * k)));
    k = Math.min(k, h / (hi[1] - lo[1]));  /* a tall frame: fit the height, centre across */
    var x0 = (INSET_W - (hi[0] - lo[0]) * k) / 2, y0 = (h - (hi[1] - lo[1]) * k) / 2;
    function sx(x) { return x0 + (x - lo[0]) * k; }
    function sy(y) { return y0 + (hi[1] - y) * k; }  /* projected y grows northward, SVG y southward */
    var ns = "http://www.w3.org/2000/svg";
    var svg = document.createElementNS(ns, "svg");
    svg.setAttribute("class", "bk-inset-svg");
    svg.setAttribute("viewBox", "0 0 " + INSET_W + " " + h);
    svg.setAttribute("width", String(INSET_W));
    svg.setAttribute("height", String(h));
    svg.setAttribute("role", "img");
    svg.setAttribute("aria-label", "Locator map: the rectangle is the part of " +
                     cx.countries.map(function (c) { return String(c.name); }).join(", ") + " shown on the map");
    /* the extent drawn, as the page computed it (projected metres, EPSG:3857) and its scale */
    svg.setAttribute("data-extent", [lo[0], lo[1], hi[0], hi[1]].map(function (v) { return v.toFixed(1); }).join(","));
    svg.setAttribute("data-origin", x0.toFixed(3) + "," + y0.toFixed(3));
    svg.setAttribute("data-scale", String(k));
    var bg = document.createElementNS(ns, "rect");
    bg.setAttribute("width", String(INSET_W)); bg.setAttribute("height", String(h)); bg.setAttribute("class", "bk-inset-bg");
    svg.appendChild(bg);
    projected.forEach(function (polys, i) {
      var d = [];
      polys.forEach(function (rings) {
        rings.forEach(function (ring) {
          ring.forEach(function (pt, j) { d.push((j ? "L" : "M") + sx(pt.x).toFixed(1) + " " + sy(pt.y).toFixed(1)); });
          d.push("Z");
        });
      });
      var path = document.createElementNS(ns, "path");
      path.setAttribute("d", d.join(""));
      path.setAttribute("fill", cx.countries[i].fill);
      path.setAttribute("fill-rule", "evenodd");
      path.setAttribute("class", "bk-inset-country");
      svg.appendChild(path);
    });
    var rect = document.createElementNS(ns, "rect");
    rect.setAttribute("class", "bk-inset-view");
    svg.appendChild(rect);
    var dot = document.createElementNS(ns, "circle");  /* where the rectangle is too small to see */
    dot.setAttribute("class", "bk-inset-dot");
    dot.setAttribute("r", "4");
    svg.appendChild(dot);

    function update() {
      var b = map.getBounds();
      var sw = proj.project(b.getSouthWest()), ne = proj.project(b.getNorthEast());
      var x = sx(sw.x), y = sy(ne.y), w = (ne.x - sw.x) * k, hh = (ne.y - sw.y) * k;
      rect.setAttribute("x", x.toFixed(2)); rect.setAttribute("y", y.toFixed(2));
      rect.setAttribute("width", w.toFixed(2)); rect.setAttribute("height", hh.toFixed(2));
      rect.setAttribute("data-west", b.getWest().toFixed(6)); rect.setAttribute("data-south", b.getSouth().toFixed(6));
      rect.setAttribute("data-east", b.getEast().toFixed(6)); rect.setAttribute("data-north", b.getNorth().toFixed(6));
      dot.setAttribute("cx", (x + w / 2).toFixed(2)); dot.setAttribute("cy", (y + hh / 2).toFixed(2));
      dot.style.display = w < 8 && hh < 8 ? "" : "none";
    }
    var d = details("Locator", true, "bk-inset");
    d.appendChild(svg);
    map.on("move zoomend resize", update);
    update();
    return new Box(d, { position: "bottomright", className: "bk-inset-control" }).addTo(map);
  }

  /* ---------------------------------------------------------------- layout */

  function rectOf(node) { return node.getBoundingClientRect(); }

  function buildLayout(map, parts) {
    /* Wide maps: legend open at the top right, credits at the bottom right, panels at the bottom left.
       Below COMPACT_PX: the title is one line, and the legend, the image opacity and the credits move
       into one panel behind a single "Key & sources" button (collapsed at first). */
    var container = map.getContainer();
    var lent = [parts.legend, parts.inset, parts.opacity, parts.credits].filter(function (b) { return !!b; });
    var wrap = el("div", "bk-keywrap");
    var button = el("button", "bk-keybtn", "Key & sources");
    button.type = "button";
    button.setAttribute("aria-expanded", "false");
    var panel = el("div", "bk-panel");
    panel.id = "bk-panel-" + L.stamp(map);
    panel.setAttribute("role", "region");
    panel.setAttribute("aria-label", "Map key, image opacity and sources");
    button.setAttribute("aria-controls", panel.id);
    wrap.appendChild(button);
    wrap.appendChild(panel);
    var keyBox = new Box(wrap, { position: "topright", className: "bk-keyctl" }).addTo(map);
    var keyCtl = keyBox.getContainer();
    var state = { compact: null };

    function setOpen(open) {
      if (open) { L.DomUtil.addClass(keyCtl, "bk-open"); } else { L.DomUtil.removeClass(keyCtl, "bk-open"); }
      button.setAttribute("aria-expanded", open ? "true" : "false");
      if (open) {  /* down to the bottom corners' controls (scale, timeline, attribution), not over them */
        var low = 0;
        Array.prototype.forEach.call(container.querySelectorAll(".leaflet-bottom"), function (c) {
          low = Math.max(low, rectOf(c).height);
        });
        panel.style.maxHeight = Math.max(120, map.getSize().y - (rectOf(button).bottom - rectOf(container).top) - low - 16) + "px";
      }
    }
    button.addEventListener("click", function () { setOpen(button.getAttribute("aria-expanded") !== "true"); });

    function apply() {
      var size = map.getSize();
      var compact = size.x < COMPACT_PX;
      if (compact !== state.compact) {
        state.compact = compact;
        if (compact) {
          L.DomUtil.addClass(container, "bk-compact");
          lent.forEach(function (b) { panel.appendChild(b._node); });
          setOpen(false);
        } else {
          L.DomUtil.removeClass(container, "bk-compact");
          lent.forEach(function (b) { b.reclaim(); });
          setOpen(false);
        }
        if (parts.setAttribution) { parts.setAttribution(compact); }
      }
      fit(size, compact);
    }

    /* the legend scrolls within what the other controls leave of 24 % of the map (the budget is a quarter) */
    function legendBudget(size, legend) {
      var others = 0;
      Array.prototype.forEach.call(container.querySelectorAll(".leaflet-control, .bk-title"), function (c) {
        if (c === legend || c.offsetParent === null) { return; }
        var r = rectOf(c);
        others += r.width * r.height;
      });
      var l = rectOf(legend), chrome = l.height - rectOf(parts.legend._node).height;
      return (0.24 * size.x * size.y - others) / Math.max(l.width, 1) - chrome;
    }

    function fit(size, compact) {
      var box = rectOf(container);
      /* the legend starts below the title where the two would meet */
      var legend = parts.legend && parts.legend.getContainer();
      if (legend) {
        legend.style.marginTop = "";
        if (!compact && parts.title) {
          var t = rectOf(parts.title), l = rectOf(legend);
          if (t.right + 6 > l.left && t.bottom + 6 > l.top) {
            legend.style.marginTop = Math.ceil(t.bottom + 8 - l.top + 10) + "px";
          }
        }
        var lnode = parts.legend._node;
        var top = rectOf(legend).top - box.top;
        var bottomRight = container.querySelector(".leaflet-bottom.leaflet-right");
        var reserve = bottomRight ? rectOf(bottomRight).height : 60;
        lnode.style.maxHeight = compact ? "" : Math.max(80, Math.min((size.x >= 1200 ? 0.5 : 0.36) * size.y, size.y - top - reserve - 24,
                                                              legendBudget(size, legend))) + "px";
      }
      /* the attribution line keeps clear of the bottom-left stack (scale, timeline) */
      var attr = container.querySelector(".leaflet-control-attribution");
      var bottomLeft = container.querySelector(".leaflet-bottom.leaflet-left");
      if (attr && bottomLeft) {
        var used = 0;
        Array.prototype.forEach.call(bottomLeft.children, function (c) {
          if (c.offsetParent !== null) { used = Math.max(used, rectOf(c).right - box.left); }
        });
        attr.style.maxWidth = Math.max(120, size.x - used - 12) + "px";
      }
    }

    map.on("resize", apply);
    /* a box opened or closed (the locator, the sources): the legend's share is worked out again */
    container.addEventListener("toggle", function (e) {
      if (!state.compact && !(parts.legend && e.target === parts.legend._node)) { fit(map.getSize(), false); }
    }, true);
    apply();
    return { apply: apply, open: setOpen, button: button, panel: panel,
             compact: function () { return state.compact; } };
  }

  /* ---------------------------------------------------------------- text alternative */

  function table(caption, head, rows) {
    var t = el("table", "bk-table");
    t.appendChild(el("caption", "", caption));
    var thead = el("thead"), tr = el("tr");
    head.forEach(function (h) { var th = el("th", "", h); th.setAttribute("scope", "col"); tr.appendChild(th); });
    thead.appendChild(tr);
    t.appendChild(thead);
    var tbody = el("tbody");
    rows.forEach(function (cells) {
      var r = el("tr");
      cells.forEach(function (c) {
        var td = el("td");
        if (c && c.nodeType) { td.appendChild(c); } else { td.appendChild(bidi(c)); }
        r.appendChild(td);
      });
      tbody.appendChild(r);
    });
    t.appendChild(tbody);
    return t;
  }

  function buildTextAlternative(map, data) {
    /* The map's incidents and measurements as tables, for screen readers and keyboard users: first in
       the page's reading order, visually hidden until it has the focus. Text only (textContent). */
    var container = map.getContainer();
    var section = el("section", "bk-textalt bk-sr");
    section.setAttribute("aria-label", "The map's data as text");
    var d = details("The map as text: incidents and measurements", false, "bk-textalt-details");
    section.appendChild(d);
    d.appendChild(el("p", "", String(data.title) + (data.subtitle ? " — " + String(data.subtitle) : "")));
    if (data.lines.length) {
      d.appendChild(el("p", "", "Lines drawn (one per source): " +
                               data.lines.map(function (g) { return g.source; }).join(", ") + ". " +
                               data.notes.disclaimer));
    }
    if (data.incidents.length) {
      d.appendChild(table("Incidents (" + data.incidents.length + ")",
        ["date", "type", "place", "location", "distance to each line", "sources"],
        data.incidents.map(function (r) {
          var src = el("span");
          (r.sources || []).forEach(function (x, i) {
            if (i) { src.appendChild(document.createTextNode("; ")); }
            src.appendChild(link(x));
          });
          return [r.date_text || r.date_label, r.type, r.place_name, r.location_text,
                  (r.sides || []).map(function (x) { return x.text; }).join("; "), src];
        })));
    }
    if (data.measurements.length) {
      d.appendChild(table("Measurements (" + data.measurements.length + ")",
        ["what", "measured", "line source", "on every source"],
        data.measurements.map(function (m) { return [m.label, m.value_text, m.line_source, m.range_text]; })));
    }
    container.parentNode.insertBefore(section, container);
    return section;
  }

  /* ---------------------------------------------------------------- URL state */

  var HASH_MAX = 2000;
  var DATE_RE = /^\d{4}-\d{2}(-\d{2})?$/;

  function parseHash(hash) {
    /* "#map=ZOOM/LAT/LON&layers=a,b&date=YYYY-MM-DD": numbers parsed, layer keys and dates only matched
       against the page's own lists; nothing from the URL is evaluated or inserted into the page */
    var out = {};
    if (typeof hash !== "string" || hash.length < 2 || hash.length > HASH_MAX) { return out; }
    hash.slice(1).split("&").forEach(function (part) {
      var i = part.indexOf("=");
      if (i < 1) { return; }
      var key = part.slice(0, i), value;
      try { value = decodeURIComponent(part.slice(i + 1)); } catch (e) { return; }
      if (key === "map") {
        var n = value.split("/");
        if (n.length !== 3 || !n.every(function (x) { return /^-?\d+(\.\d+)?$/.test(x); })) { return; }
        var z = Number(n[0]), lat = Number(n[1]), lon = Number(n[2]);
        if (z >= 0 && z <= 22 && Math.abs(lat) <= 85.06 && Math.abs(lon) <= 180) { out.view = [lat, lon, z]; }
      } else if (key === "layers") {
        out.layers = value === "" ? [] : value.split(",").slice(0, 200);
      } else if (key === "date" && DATE_RE.test(value)) {
        out.date = value;
      }
    });
    return out;
  }

  function buildUrlState(map, refs, api) {
    var known = Object.create(null);
    var bases = Object.create(null);
    [refs.groups, refs.overlays].forEach(function (o) {
      Object.keys(o || {}).forEach(function (k) { known[k] = o[k]; });
    });
    Object.keys(refs.bases || {}).forEach(function (k) { bases[k] = refs.bases[k]; });
    var ready = false;

    function write() {
      if (!ready) { return; }
      var c = map.getCenter(), z = map.getZoom();
      var on = Object.keys(known).concat(Object.keys(bases)).filter(function (k) {
        return map.hasLayer(known[k] || bases[k]);
      });
      var parts = ["map=" + z + "/" + c.lat.toFixed(5) + "/" + c.lng.toFixed(5),
                   "layers=" + on.map(encodeURIComponent).join(",")];
      if (api.timeline && api.timeline.date()) { parts.push("date=" + api.timeline.date()); }
      try { window.history.replaceState(null, "", "#" + parts.join("&")); } catch (e) { /* sandboxed frame */ }
    }

    var st = parseHash(window.location.hash);
    if (st.layers) {
      var want = Object.create(null);
      st.layers.forEach(function (k) { want[k] = true; });
      Object.keys(known).forEach(function (k) {
        if (want[k] && !map.hasLayer(known[k])) { map.addLayer(known[k]); }
        if (!want[k] && map.hasLayer(known[k])) { map.removeLayer(known[k]); }
      });
      var base = Object.keys(bases).filter(function (k) { return want[k]; })[0];
      if (base) {
        Object.keys(bases).forEach(function (k) { if (k !== base && map.hasLayer(bases[k])) { map.removeLayer(bases[k]); } });
        if (!map.hasLayer(bases[base])) { map.addLayer(bases[base]); }
      }
    }
    if (st.view) { map.setView([st.view[0], st.view[1]], st.view[2], { animate: false }); }
    if (st.date && api.timeline) { api.timeline.setDate(st.date); }
    map.on("moveend overlayadd overlayremove baselayerchange", write);
    if (api.timeline) { api.timeline.onchange = write; }
    ready = true;
    return { parse: parseHash, write: write };
  }

  /* ---------------------------------------------------------------- layers */

  function unfocusable(layer) {
    /* Chromium puts every clickable SVG path in the tab order: hundreds of stops before the controls.
       Keyboard and screen-reader users get the same content from the text alternative instead. */
    var e = layer instanceof L.Path && layer.getElement ? layer.getElement() : null;
    if (e) { e.setAttribute("tabindex", "-1"); e.setAttribute("aria-hidden", "true"); }
  }

  function keyboardButtons(container) {
    /* the measuring plugin's buttons are <a> without href: not in the tab order. Make them buttons. */
    if (!container) { return; }
    Array.prototype.forEach.call(container.querySelectorAll("a:not([href])"), function (a) {
      a.setAttribute("tabindex", "0");
      a.setAttribute("role", "button");
      if (a.title && !a.getAttribute("aria-label")) { a.setAttribute("aria-label", a.title); }
      a.addEventListener("keydown", function (e) {
        if (e.key === "Enter" || e.key === " ") { e.preventDefault(); a.click(); }
      });
    });
  }

  /* ---- country context: pale equal-weight fills, thin outlines and names, under every data layer ---- */
  function buildContext(map, refs, data, labelEntries) {
    var cx = data.context;
    if (!cx || !cx.countries || !cx.countries.length) { return; }
    if (!map.getPane("bk-context")) {
      var pane = map.createPane("bk-context");
      /* under the tile pane (200): offline (no tiles) the fills are the land under the hillshade; online
         the basemap's own drawing wins and only the names (their own pane) stay on top */
      pane.style.zIndex = 150;
      pane.style.pointerEvents = "none";
      var lpane = map.createPane("bk-context-labels");
      lpane.style.zIndex = 450;  /* above the fills and lines, below markers (600) and tooltips (650) */
      lpane.style.pointerEvents = "none";
    }
    var group = L.layerGroup();
    cx.countries.forEach(function (c) {
      group.addLayer(L.polygon(polyLatlngs(c.polygons), L.extend({}, cx.style, {
        fillColor: c.fill, pane: "bk-context", interactive: false, className: "bk-country" })));
      var span = el("span", "bk-country-name");
      span.appendChild(bidi(c.name));
      if (c.lang) { span.setAttribute("lang", c.lang); }
      var icon = L.divIcon({ className: "bk-country-label", html: span, iconSize: null });
      var marker = L.marker([c.label_at[1], c.label_at[0]], { icon: icon, pane: "bk-context-labels",
                                                             interactive: false, keyboard: false });
      group.addLayer(marker);
      /* a country's name may slide along the edge over its point, never off to a side (a neighbour) */
      labelEntry(labelEntries, { prio: LABEL_PRIO.country, sides: false, anchor: function () { return map.latLngToContainerPoint(marker.getLatLng()); },
                                 node: function () { return map.hasLayer(marker) && marker._icon ? span : null; } });
    });
    (cx.lakes || []).forEach(function (w) {
      group.addLayer(L.polygon(polyLatlngs(w.polygons), L.extend({}, cx.water_style, {
        pane: "bk-context", interactive: false, className: "bk-lake" })));
    });
    group.addTo(map);
    L.DomUtil.addClass(map.getContainer(), "bk-has-context");
    refs.groups["context"] = group;
    if (data.layer_control) {
      data.layer_control.overlays.unshift({ key: "context", name: "Countries (" + cx.source + ")" });
    }
  }

  /* ---- labels never overlap, never sit under a control, never cross the map's edge ----
     A priority-based placement recomputed on every zoom, move, layer toggle and panel toggle:
     measurements (0) > incidents (1, their markers: fixed obstacles) > country names (2) > places
     (3 + rank of the kind; towns with a population pass a size rank: smaller rank = larger town).
     The obstacles are every visible control's box (title, legend or key button, timeline, layer
     control, zoom, attribution, scale bar, inset) and the map's edges. In priority order each label
     takes the first of its positions — where Leaflet put it, then right, left, above and below its
     anchor, each also slid along the edge when that keeps it beside the anchor — that is inside the
     map and meets no box already kept; a label with none is hidden (visibility, so its box can still
     be measured next time). Moves are a CSS `translate`, which adds to Leaflet's own transform. */
  var LABEL_PRIO = { measurement: 0, incident: 1, country: 2, place: 3 };
  var PLACE_RANK = ["city", "town", "peak", "lake", "crossing", "airport", "base", "village", "region", "road"];
  function placePriority(kind) {
    var i = PLACE_RANK.indexOf(kind);
    return LABEL_PRIO.place + (i < 0 ? PLACE_RANK.length : i);
  }
  function boxesMeet(a, b) {
    return a.left < b.right && b.left < a.right && a.top < b.bottom && b.top < a.bottom;
  }
  function boxAt(left, top, w, h) { return { left: left, top: top, right: left + w, bottom: top + h }; }
  function inside(b, e) { return b.left >= e.left && b.right <= e.right && b.top >= e.top && b.bottom <= e.bottom; }

  /* the boxes of the controls a label must keep clear of (2 px of air around each) */
  function controlBoxes(container) {
    var out = [];
    Array.prototype.forEach.call(container.querySelectorAll(".leaflet-control, .bk-title"), function (c) {
      if (c.offsetParent === null) { return; }  /* display:none (e.g. the key button on a wide map) */
      var r = c.getBoundingClientRect();
      if (r.width > 0 && r.height > 0) { out.push({ left: r.left - 2, top: r.top - 2, right: r.right + 2, bottom: r.bottom + 2 }); }
    });
    return out;
  }

  /* slide box b along one axis to fit into e, as long as it still spans the anchor on that axis */
  function slide(b, e, p, axis) {
    var lo = axis === "x" ? "left" : "top", hi = axis === "x" ? "right" : "bottom";
    var d = b[lo] < e[lo] ? e[lo] - b[lo] : b[hi] > e[hi] ? e[hi] - b[hi] : 0;
    if (!d || b[hi] - b[lo] > e[hi] - e[lo]) { return null; }
    var c = { left: b.left, top: b.top, right: b.right, bottom: b.bottom };
    c[lo] += d; c[hi] += d;
    var q = axis === "x" ? p.x : p.y;
    return q >= c[lo] && q <= c[hi] ? c : null;
  }

  /* positions to try, best first: as placed, then beside the anchor p (client px) on each side */
  function labelCandidates(r, p, gap, e, sides) {
    var w = r.right - r.left, h = r.bottom - r.top;
    var natural = { left: r.left, top: r.top, right: r.right, bottom: r.bottom };
    var out = [natural];
    if (!p) { return out; }
    if (p.x >= natural.left && p.x <= natural.right) { out.push(slide(natural, e, p, "x")); }
    if (p.y >= natural.top && p.y <= natural.bottom) { out.push(slide(natural, e, p, "y")); }
    if (!sides) { return out.filter(function (b) { return !!b; }); }
    var sides = [boxAt(p.x + gap, p.y - h / 2, w, h), boxAt(p.x - gap - w, p.y - h / 2, w, h),
                 boxAt(p.x - w / 2, p.y - gap - h, w, h), boxAt(p.x - w / 2, p.y + gap, w, h)];
    sides.forEach(function (b, i) {
      out.push(b);
      out.push(slide(b, e, p, i < 2 ? "y" : "x"));
    });
    return out.filter(function (b) { return !!b; });
  }

  function placeLabels(map, entries) {
    var container = map.getContainer();
    var off = window.borderkitDebug && window.borderkitDebug.noLabelPlacement === true;  /* tests only */
    var view = container.getBoundingClientRect();
    var edge = { left: view.left + 1, top: view.top + 1, right: view.right - 1, bottom: view.bottom - 1 };
    var nodes = [];
    entries.forEach(function (it) {  /* write phase: undo the last pass */
      var n = it.node();
      if (!n) { return; }
      L.DomUtil.removeClass(n, "bk-collided");
      if (n.style) { n.style.translate = ""; }
      nodes.push({ it: it, n: n });
    });
    /* Leaflet placed a label that a zoom rule has just shown while it was display:none (no size):
       place it again, once (a tooltip's update re-lays it out: too dear for every pass) */
    nodes.filter(function (x) {
      var shown = x.n.offsetParent !== null, fresh = shown && !x.it.wasShown;
      x.it.wasShown = shown;
      return fresh && x.it.refresh;
    }).forEach(function (x) { x.it.refresh(); });
    if (off) { return 0; }
    nodes.sort(function (a, b) {
      return a.it.prio - b.it.prio || (a.it.rank || 0) - (b.it.rank || 0) || a.it.order - b.it.order;
    });
    var kept = controlBoxes(container);
    /* the fixed marks (incident markers) first: a measurement's label (placed before the incidents)
       still keeps clear of them where it can, and lies over one only where it has no other place */
    var marks = [];
    nodes.forEach(function (x) {
      if (!x.it.obstacle) { return; }
      var r = x.n.getBoundingClientRect();
      if (r.width > 0 && r.height > 0) { marks.push({ left: r.left - 1, right: r.right + 1, top: r.top - 1, bottom: r.bottom + 1 }); }
    });
    function free(c, withMarks) {
      var meet = function (k) { return boxesMeet(k, c); };
      return inside(c, edge) && !kept.some(meet) && !(withMarks && marks.some(meet));
    }
    var hidden = 0;
    var moves = [];
    nodes.forEach(function (x) {  /* read phase: one layout for the whole pass */
      if (x.it.obstacle || x.n.offsetParent === null) { return; }  /* display:none (zoom rules): nothing to place */
      var r = x.n.getBoundingClientRect();
      if (!(r.width > 0 && r.height > 0)) { return; }
      var box = { left: r.left - 1, right: r.right + 1, top: r.top - 1, bottom: r.bottom + 1 };
      var a = x.it.anchor ? x.it.anchor() : null;
      var p = a ? { x: a.x + view.left, y: a.y + view.top } : null;
      var offScreen = box.right <= view.left || box.left >= view.right || box.bottom <= view.top || box.top >= view.bottom;
      var anchorIn = p && p.x >= view.left && p.x <= view.right && p.y >= view.top && p.y <= view.bottom;
      if (offScreen && !anchorIn) { return; }  /* not on screen, nor is what it names */
      var cands = labelCandidates(box, anchorIn ? p : null, x.it.gap || 8, edge, x.it.sides !== false);
      var pick = null, i;
      for (i = 0; i < cands.length && !pick; i++) { if (free(cands[i], true)) { pick = cands[i]; } }
      for (i = 0; i < cands.length && !pick && x.it.prio < LABEL_PRIO.incident; i++) {
        if (free(cands[i], false)) { pick = cands[i]; }
      }
      if (!pick) {
        if (!offScreen) { L.DomUtil.addClass(x.n, "bk-collided"); hidden += 1; }
        return;
      }
      kept.push(pick);
      if (pick !== cands[0]) { moves.push([x.n, pick.left - box.left, pick.top - box.top]); }
    });
    moves.forEach(function (m) { m[0].style.translate = Math.round(m[1]) + "px " + Math.round(m[2]) + "px"; });
    return hidden;
  }

  function tooltipNode(map, layer) {
    return function () {
      var t = layer.getTooltip();
      return t && map.hasLayer(layer) ? t.getElement() || null : null;
    };
  }

  function tooltipRefresh(layer) {
    return function () { var t = layer.getTooltip(); if (t && t.isOpen()) { t.update(); } };
  }

  /* the point a label names, in container px (a tooltip's own position: a marker, a line's middle) */
  function tooltipAnchor(map, layer) {
    return function () {
      var t = layer.getTooltip();
      var ll = t && t.getLatLng && t.getLatLng();
      return ll ? map.latLngToContainerPoint(ll) : null;
    };
  }

  /* one entry of the placement: {prio, rank, node(), anchor(), gap, sides, obstacle}; `prio` one of
     LABEL_PRIO (or placePriority(kind)), `rank` orders labels of one priority (e.g. by population) */
  function labelEntry(entries, opts) {
    var e = L.extend({ prio: LABEL_PRIO.place, rank: 0, gap: 8, obstacle: false }, opts, { order: entries.length });
    entries.push(e);
    return e;
  }

  function build(map, refs, data) {
    var groups = refs.groups;
    setPopupFit(map.getSize().x);
    map.on("layeradd", function (e) { unfocusable(e.layer); });
    var api = { incidents: [], timeline: null };
    var labelEntries = [];  /* {prio, rank, order, node(), anchor()} for the placement pass (placeLabels) */
    buildContext(map, refs, data, labelEntries);
    /* the vector basemap (web/basemap.js): water, other borders, towns (their labels below every other) */
    api.basemap = window.borderkitBasemap ? window.borderkitBasemap.build(map, refs, data,
                                                                  function (o) { return labelEntry(labelEntries, o); }) : null;

    data.lines.forEach(function (g) {
      var group = groups[g.key];
      g.features.forEach(function (f) {
        if (!f.lines.length) { return; }
        var style = { color: g.style.color, weight: g.style.weight, opacity: g.style.opacity,
                      dashArray: g.style.dashArray || null, className: "bk-line" };
        var layer = L.polyline(latlngs(f.lines), style);
        var tip = el("div");
        tip.appendChild(bidi(g.source));
        if (f.name) { tip.appendChild(document.createTextNode(" · ")); tip.appendChild(bidi(f.name)); }
        layer.bindTooltip(tip, { sticky: true });
        layer.bindPopup(function () { return linePopup(g, f); }, popupOptions());
        group.addLayer(layer);
      });
    });

    data.areas.forEach(function (a) {
      var group = groups[a.kind === "overlap" ? "areas:overlap" : "areas:disagreement"];
      var style = a.kind === "overlap" ? data.styles.overlap : data.styles.disagreement;
      var layer = L.polygon(polyLatlngs(a.polygons), L.extend({ className: "bk-area" }, style));
      var tip = el("div");
      tip.appendChild(bidi(a.kind === "overlap"
        ? a.source_a + ": " + a.party_a + " & " + a.party_b
        : a.source_a + " " + a.party_a + " / " + a.source_b + " " + a.party_b));
      tip.appendChild(document.createTextNode(" — " + fmt(a.area_km2, 2) + " km²"));
      layer.bindTooltip(tip, { sticky: true });
      layer.bindPopup(function () { return areaPopup(a); }, popupOptions());
      group.addLayer(layer);
    });

    data.viewsheds.forEach(function (v) {
      var layer = L.polygon(polyLatlngs(v.polygons), L.extend({ className: "bk-viewshed" }, data.styles.viewshed));
      var tip = el("div");
      tip.appendChild(bidi(v.label || "viewshed"));
      tip.appendChild(document.createTextNode(" — visible: " + fmt(v.area_km2, 1) + " km²"));
      layer.bindTooltip(tip, { sticky: true });
      layer.bindPopup(function () { return viewshedPopup(v); }, popupOptions());
      groups[v.key].addLayer(layer);
    });

    data.places.forEach(function (p) {
      var group = groups["places"];
      var layer;
      var minor = ["peak", "city"].indexOf(p.kind) < 0;
      if (p.point) {
        var ll = [p.point[1], p.point[0]];
        if (p.kind === "peak") {
          layer = L.marker(ll, { icon: L.divIcon({ className: "bk-peak", html: "▲", iconSize: [14, 14] }),
                                 keyboard: false });
        } else {
          layer = L.circleMarker(ll, { radius: 4, color: "#ffffff", weight: 1, fillColor: p.color,
                                       fillOpacity: 1, className: "bk-place" });
        }
      } else {
        layer = L.polyline(latlngs(p.lines), { color: p.color, weight: 2, dashArray: "4 3", className: "bk-road" });
      }
      if (p.label || p.names.length || p.kind === "peak") {
        layer.bindTooltip(placeLabel(p), {
          permanent: true, direction: "right", offset: [6, 0],
          className: "bk-place-label" + (minor ? " bk-minor" : "") + (p.kind === "peak" ? " bk-peak-label" : "")
        });
        labelEntry(labelEntries, { prio: placePriority(p.kind), node: tooltipNode(map, layer), refresh: tooltipRefresh(layer),
                                   anchor: p.point ? tooltipAnchor(map, layer) : null, gap: p.kind === "peak" ? 10 : 8 });
      }
      layer.bindPopup(function () { return placePopup(p); }, popupOptions());
      group.addLayer(layer);
    });

    var zoomLabels = [];
    data.measurements.forEach(function (m) {
      var group = groups["measurements"];
      var a = [m.from[1], m.from[0]], b = [m.to[1], m.to[0]];
      var primary = m.permanent !== false;
      var style = L.extend({}, data.styles.measurement, primary ? {} : { weight: 1.5, opacity: 0.55 });
      group.addLayer(L.polyline([a, b], L.extend({ className: "bk-measure-line", interactive: false }, style)));
      /* a thin dashed line is hard to hit: a transparent 12 px wide twin takes the hover and the click */
      var line = L.polyline([a, b], { className: "bk-measure" + (primary ? "" : " bk-measure-minor"),
                                      weight: 12, opacity: 0, color: "#000" });
      line.bindPopup(function () { return measurePopup(m); }, popupOptions());
      group.addLayer(line);
      var ends = [a, b].map(function (p) {
        var mk = L.circleMarker(p, { radius: primary ? 3 : 2, color: "#111", weight: 1, fillColor: "#fff",
                                     fillOpacity: 1, className: "bk-measure-end" });
        mk.bindPopup(function () { return measurePopup(m); }, popupOptions());
        group.addLayer(mk);
        return mk;
      });
      if (!primary) {
        line.bindTooltip(measureLabel(m), { sticky: true, className: "bk-measure-label bk-measure-minor" });
        return;
      }
      var offsets = { center: [0, 0], right: [8, 0], left: [-8, 0], top: [0, -8], bottom: [0, 8] };
      var dir = offsets[m.label_direction] ? m.label_direction : "center";
      var extra = m.label_offset || [0, 0];
      var holder = m.label_at === "from" ? ends[0] : m.label_at === "to" ? ends[1] : line;
      holder.bindTooltip(measureLabel(m), { permanent: true, direction: dir,
                                            offset: [offsets[dir][0] + Number(extra[0] || 0),
                                                     offsets[dir][1] + Number(extra[1] || 0)],
                                            className: "bk-measure-label" });
      if (typeof m.label_min_zoom === "number") { zoomLabels.push({ layer: holder, min: m.label_min_zoom }); }
      labelEntry(labelEntries, { prio: LABEL_PRIO.measurement, node: tooltipNode(map, holder), anchor: tooltipAnchor(map, holder),
                                 refresh: tooltipRefresh(holder) });
    });

    function measureLabelZoom() {
      var z = map.getZoom();
      zoomLabels.forEach(function (it) {
        var t = it.layer.getTooltip();
        var e = t && t.getElement();
        if (e) { e.style.display = z < it.min ? "none" : ""; }
      });
    }
    map.on("zoomend overlayadd", measureLabelZoom);

    var incGroup = groups["incidents"];
    data.incidents.forEach(function (r) {
      var ll = [r.lat, r.lon];
      /* no ring where the uncertainty is unknown (the popup says so) */
      var halo = L.circle(ll, { radius: r.precision_m === null ? 0 : r.precision_m, color: r.color, weight: 1, dashArray: "3 4",
                                fillColor: r.color, fillOpacity: 0.08, interactive: false, className: "bk-halo" });
      var marker = L.circleMarker(ll, { radius: 7, color: "#ffffff", weight: 2, fillColor: r.color,
                                        fillOpacity: 0.95, className: "bk-incident" });
      var tip = el("div");
      tip.appendChild(document.createTextNode(r.date_label + " · "));
      tip.appendChild(bidi(r.type));
      tip.appendChild(document.createTextNode(" · "));
      tip.appendChild(bidi(r.place_name));
      marker.bindTooltip(tip);
      marker.bindPopup(function () { return incidentPopup(r); }, popupOptions());
      api.incidents.push({ rec: r, marker: marker, halo: halo });
      labelEntry(labelEntries, { prio: LABEL_PRIO.incident, obstacle: true,
                                 node: function () { return map.hasLayer(marker) ? marker.getElement() || null : null; } });
    });
    if (incGroup) {
      api.timeline = buildTimeline(map, incGroup, api.incidents, data);
    }

    /* chrome */
    var container = map.getContainer();
    var embed = data.embed === true;
    if (embed) { L.DomUtil.addClass(container, "bk-embed"); }
    api.layerControl = buildLayerControl(map, refs, data);
    var title = buildTitle(map, data);
    var setAttribution = buildAttribution(map, data);
    var legendBox = new Box(buildLegend(data), { position: "topright", className: "bk-legend-control" }).addTo(map);
    var opacityBox = buildOpacity(map, refs.overlays, data.image_overlays);
    L.control.scale({ metric: true, imperial: false, maxWidth: 120, position: "bottomleft" }).addTo(map);
    if (L.Control.FullScreen && !embed) {  /* an iframe's host page decides its size */
      new L.Control.FullScreen({ position: "topleft", title: "Full screen", titleCancel: "Exit full screen" }).addTo(map);
    }
    if (L.control.polylineMeasure) {
      var measure = L.control.polylineMeasure({ position: "topleft", unit: "kilometres", showBearings: true,
                                  clearMeasurementsOnStop: false, showClearControl: true,
                                  measureControlTitleOn: "Measure distances (great circle, spherical Earth)",
                                  measureControlTitleOff: "Stop measuring" }).addTo(map);
      keyboardButtons(measure.getContainer());
    }
    buildMouse(map);
    var creditsBox = new Box(buildCredits(data), { position: "bottomright", className: "bk-credits-control" }).addTo(map);
    var insetBox = buildInset(map, data);
    api.layout = buildLayout(map, { title: title, legend: legendBox, opacity: opacityBox, credits: creditsBox,
                                    inset: insetBox, setAttribution: setAttribution });
    api.urlState = embed || data.url_state === false ? null : buildUrlState(map, refs, api);
    api.textAlternative = buildTextAlternative(map, data);
    container.setAttribute("role", "region");
    container.setAttribute("aria-label", "Map: " + String(data.title));
    container.setAttribute("aria-roledescription", "map");

    function zoomClass() {
      var c = map.getContainer();
      if (map.getZoom() < data.label_min_zoom) { L.DomUtil.addClass(c, "bk-zoom-low"); }
      else { L.DomUtil.removeClass(c, "bk-zoom-low"); }
    }
    map.on("zoomend", zoomClass);
    zoomClass();
    measureLabelZoom();
    /* after the zoom rules above (zoomend) have shown or hidden labels: moveend follows every zoom */
    api.placeLabels = function () { return placeLabels(map, labelEntries); };
    /* more labels (e.g. towns by population) join the same placement: {prio, rank, node(), anchor()} */
    api.addLabel = function (opts) { var e = labelEntry(labelEntries, opts); api.placeLabels(); return e; };
    api.labelPriority = LABEL_PRIO;
    /* viewreset too: a jump at the same zoom fires it after moveend, and only then are the labels moved */
    map.on("moveend viewreset overlayadd overlayremove", api.placeLabels);
    /* the timeline adds and removes incident markers (obstacles), and controls open, close and resize
       (the legend and the key panel, a new width): one pass after a batch of them */
    var pending = false;
    function placeSoon() {
      if (pending) { return; }
      pending = true;
      setTimeout(function () { pending = false; api.placeLabels(); }, 0);
    }
    map.on("layeradd layerremove", function (e) { if (e.layer instanceof L.CircleMarker) { placeSoon(); } });
    map.on("resize", placeSoon);
    container.addEventListener("toggle", placeSoon, true);  /* <details> in a control opened or closed */
    /* a zoom animated while the page was still building (folium's animated fit to the bounds) ends its labels' CSS
       transitions after its moveend: place them again where they come to rest */
    container.addEventListener("transitionend", function (e) {
      if (e.propertyName === "transform" && L.DomUtil.hasClass(e.target, "leaflet-zoom-animated")) { placeSoon(); }
    });
    api.layout.button.addEventListener("click", placeSoon);
    api.placeLabels();

    window.borderkitMaps = window.borderkitMaps || [];
    window.borderkitMaps.push({ map: map, api: api, data: data });
    document.documentElement.setAttribute("data-borderkit-ready", "1");
    return api;
  }

  window.borderkit = { build: build, parseHash: parseHash, version: "1" };
}());
