// The dashboard's map (web/dashboard.rs, map.rs): village outlines coloured by the share of
// their households visited, and visit points clustered by the server for the view. The browser
// never receives every point: each move asks /api/v1/map/clusters for the cells of its view.
// A basemap shows only when the server has one configured (a tile URL or a raster PMTiles file).
(function () {
  'use strict';
  const box = document.getElementById('map');
  if (!box || !window.L) { return; }
  const region = box.dataset.region;
  const text = JSON.parse(box.dataset.text);
  const map = L.map(box, { zoomSnap: 1 }).setView([-2.5, 118], 5);
  if (box.dataset.pmtiles && window.pmtiles) {
    pmtiles.leafletRasterLayer(new pmtiles.PMTiles(box.dataset.pmtiles), { attribution: box.dataset.attribution }).addTo(map);
  } else if (box.dataset.tiles) {
    L.tileLayer(box.dataset.tiles, { attribution: box.dataset.attribution, maxZoom: 19 }).addTo(map);
  }

  // Five steps from none visited (pale) to all (dark green).
  const shade = (p) => (p === null ? '#eeeeee' : ['#f1f7ed', '#c7e3b8', '#8fc77a', '#4f9f45', '#1d6b2c'][Math.min(4, Math.floor(p / 20))]);
  const get = (path) => fetch(path, { credentials: 'same-origin' }).then((r) => (r.ok ? r.json() : Promise.reject(r.status)));

  const points = L.layerGroup().addTo(map);
  let asked = 0;
  // Without outlines, the first answer (all of Indonesia) says where the visits are.
  let fitToPoints = false;
  function loadClusters() {
    const b = map.getBounds();
    const bbox = [b.getWest(), b.getSouth(), b.getEast(), b.getNorth()]
      .map((v, i) => Math.max(i % 2 ? -90 : -180, Math.min(i % 2 ? 90 : 180, v)).toFixed(5)).join(',');
    const n = ++asked;
    get(`/api/v1/map/clusters?region=${region}&bbox=${bbox}&zoom=${map.getZoom()}`).then((answer) => {
      if (n !== asked) { return; } // a later move answered first
      if (fitToPoints && answer.clusters.length) {
        fitToPoints = false;
        map.fitBounds(answer.clusters.map((c) => [c.lat, c.lon]), { padding: [20, 20], maxZoom: 14 });
        return; // the move asks again
      }
      fitToPoints = false;
      points.clearLayers();
      box.dataset.clusters = answer.clusters.length;
      box.dataset.visits = answer.clusters.reduce((sum, c) => sum + c.visits, 0);
      for (const c of answer.clusters) {
        const marker = L.circleMarker([c.lat, c.lon], {
          radius: c.visits === 1 ? 5 : Math.min(28, 7 + 4 * Math.log2(c.visits)),
          color: c.flagged ? '#b45309' : '#0b6e4f', weight: 2, fillOpacity: 0.6,
        }).bindTooltip(`${c.visits} ${text.visits}${c.flagged ? ` · ${c.flagged} ${text.flagged}` : ''}`);
        marker.on('click', () => {
          if (c.household_id) { window.location.href = `/households/${c.household_id}`; } else { map.setView([c.lat, c.lon], map.getZoom() + 2); }
        });
        points.addLayer(marker);
      }
    }).catch(() => { box.dataset.clusters = 'error'; });
  }

  get(`/api/v1/map/boundaries?region=${region}`).then((villages) => {
    box.dataset.villages = villages.features.length;
    if (villages.features.length) {
      const layer = L.geoJSON(villages, {
        style: (f) => ({ color: '#555', weight: 1, fillColor: shade(f.properties.percent_visited), fillOpacity: 0.55 }),
        onEachFeature: (f, l) => l.bindTooltip(`${f.properties.name || f.properties.code}: ${f.properties.visited}/${f.properties.targets} ${text.visited} (${f.properties.percent_visited ?? 0}%)`),
      }).addTo(map);
      layer.bringToBack();
      map.fitBounds(layer.getBounds(), { padding: [10, 10] });
    } else {
      fitToPoints = true;
    }
  }).catch(() => { box.dataset.villages = 'error'; fitToPoints = true; }).finally(() => {
    map.on('moveend', loadClusters);
    loadClusters();
  });
}());
