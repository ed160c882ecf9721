/* borderkit basemap: the case's water, other borders and towns, drawn quietly (offline maps, zoom 6–14).
   The page data carry the shapes once per zoom band, each simplified to one pixel at the band's highest
   zoom (borderkit.maps.basemap); this script draws the band of the current zoom. Water and borders sit
   just above the country fills, under the tile pane: offline they are the map; online the tiles' own
   drawing wins. Town names join the page's label placement (borderkit.js) below every other label.
   Every string goes in as text (textContent), never as HTML. */
(function () {
  "use strict";

  var TOWN_PRIORITY = 30;  /* after measurements (0), incidents (1), countries (2) and places (3–13) */

  function bandIndex(bands, zoom) {
    for (var i = 0; i < bands.length; i++) {
      if (zoom <= bands[i].max_zoom) { return i; }
    }
    return bands.length - 1;
  }

  function swap(parts) {  /* [lon, lat] → [lat, lon], at any depth */
    if (typeof parts[0] === "number") { return [parts[1], parts[0]]; }
    return parts.map(swap);
  }

  function panes(map) {
    if (map.getPane("bk-basemap")) { return; }
    var pane = map.createPane("bk-basemap");
    pane.style.zIndex = 155;  /* above the country fills (150), under the tiles (200) and the hillshade */
    pane.style.pointerEvents = "none";
    var lpane = map.createPane("bk-basemap-labels");
    lpane.style.zIndex = 440;  /* under the country names and the data labels (450+) */
    lpane.style.pointerEvents = "none";
  }

  function bandLayer(band, style) {
    var g = L.layerGroup();
    var opts = function (s, cls) {
      return L.extend({}, s, { pane: "bk-basemap", interactive: false, className: cls });
    };
    if (band.water.length) { g.addLayer(L.polygon(swap(band.water), opts(style.water, "bk-water"))); }
    if (band.rivers.length) {
      g.addLayer(L.polyline(swap(band.rivers), L.extend(opts(style.river, "bk-river"), { fill: false })));
    }
    if (band.borders.length) {
      g.addLayer(L.polyline(swap(band.borders), L.extend(opts(style.border, "bk-border"), { fill: false })));
    }
    return g;
  }

  function build(map, refs, data, addLabel) {
    var bm = data.basemap;
    if (!bm || !bm.bands || !bm.bands.length) { return null; }
    panes(map);
    var bands = bm.bands.map(function (b) { return bandLayer(b, bm.style); });
    var group = L.layerGroup();
    var current = -1;
    function showBand() {
      var i = bandIndex(bm.bands, map.getZoom());
      if (i === current) { return; }
      if (current >= 0) { group.removeLayer(bands[current]); }
      group.addLayer(bands[i]);
      current = i;
    }
    showBand();

    /* towns: a dot and a name, from the zoom their population earns (data: min_zoom) */
    var towns = L.layerGroup();
    var byZoom = {};
    (bm.towns || []).forEach(function (t, rank) {
      var ll = [t.point[1], t.point[0]];
      var dot = L.circleMarker(ll, { radius: bm.style.town.radius, color: bm.style.town.color, weight: 1,
                                     fillColor: "#ffffff", fillOpacity: 1, pane: "bk-basemap-labels",
                                     interactive: false, className: "bk-town" });
      var span = document.createElement("span");
      span.className = "bk-town-name";
      span.textContent = t.name;
      var label = L.marker(ll, { icon: L.divIcon({ className: "bk-town-label", html: span, iconSize: null }),
                                 pane: "bk-basemap-labels", interactive: false, keyboard: false });
      var item = L.layerGroup([dot, label]);
      (byZoom[t.min_zoom] = byZoom[t.min_zoom] || []).push(item);
      /* the placement may move the name right/left/above/below its dot; larger towns first (sorted) */
      addLabel({ prio: TOWN_PRIORITY, rank: rank, gap: 4,
                 node: function () { return map.hasLayer(label) && label._icon ? span : null; },
                 anchor: function () { return map.latLngToContainerPoint(ll); } });
    });
    function showTowns() {
      var z = map.getZoom();
      Object.keys(byZoom).forEach(function (k) {
        var on = z >= Number(k);
        byZoom[k].forEach(function (item) {
          if (on && !towns.hasLayer(item)) { towns.addLayer(item); }
          else if (!on && towns.hasLayer(item)) { towns.removeLayer(item); }
        });
      });
    }
    showTowns();
    /* zoomend comes before moveend, on which the label placement runs: it sees this zoom's towns */
    map.on("zoomend", function () { showBand(); showTowns(); });

    group.addTo(map);
    if (data.offline) { towns.addTo(map); }  /* online, the tiles name the towns; the control adds them */
    refs.groups["basemap"] = group;
    refs.groups["towns"] = towns;
    if (data.layer_control) {
      data.layer_control.overlays.unshift({ key: "towns", name: "Towns (GeoNames)" });
      data.layer_control.overlays.unshift({ key: "basemap", name: "Water and other borders (GSHHG)" });
    }
    return { bands: bands, group: group, towns: towns, band: function () { return current; } };
  }

  window.borderkitBasemap = { build: build };
}());
