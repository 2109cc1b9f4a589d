// The desk page's one script (plain JavaScript, no library): name completion from the directory,
// picking the patient's home on the map, focus on the answer, and the worklist's live changes.
// The page works without it.
"use strict";

function completeNames(input) {
  const list = document.getElementById(input.getAttribute("list"));
  const url = input.dataset.complete;
  let timer = null;
  let asked = "";
  input.addEventListener("input", () => {
    clearTimeout(timer);
    const text = input.value.trim();
    if (!text || text === asked) return;
    timer = setTimeout(async () => {
      asked = text;
      const params = new URLSearchParams({ q: text, limit: "10" });
      try {
        const response = await fetch(`${url}?${params}`, { headers: { Accept: "application/json" } });
        if (!response.ok) return;
        const page = await response.json();
        list.replaceChildren(...page.items.map(({ institution }) => {
          const option = document.createElement("option");
          option.value = institution.name;
          const aliases = institution.aliases.length ? `（${institution.aliases.join("、")}）` : "";
          option.label = `${institution.name}${aliases} · ${institution.county}`;
          return option;
        }));
      } catch (err) {
        // Completion is a help only: typing the full name still works.
      }
    }, 150);
  });
}

function pickOnMap(svg) {
  const lat = document.getElementById("lat");
  const lon = document.getElementById("lon");
  const pointChoice = document.getElementById("origin_kind-point");
  if (!lat || !lon || !pointChoice) return;
  const p = {
    pad: Number(svg.dataset.pad), latMax: Number(svg.dataset.latMax), lonMin: Number(svg.dataset.lonMin),
    kx: Number(svg.dataset.kx), ky: Number(svg.dataset.ky),
  };
  svg.addEventListener("click", (event) => {
    const point = new DOMPoint(event.clientX, event.clientY).matrixTransform(svg.getScreenCTM().inverse());
    lat.value = (p.latMax - (point.y - p.pad) / p.ky).toFixed(5);
    lon.value = (p.lonMin + (point.x - p.pad) / p.kx).toFixed(5);
    pointChoice.checked = true;
    const ns = "http://www.w3.org/2000/svg";
    let mark = document.getElementById("picked");
    if (!mark) {
      mark = document.createElementNS(ns, "g");
      mark.setAttribute("id", "picked");
      mark.setAttribute("class", "picked");
      mark.appendChild(document.createElementNS(ns, "circle"));
      svg.querySelector(".overlay").appendChild(mark);
    }
    const dot = mark.querySelector("circle");
    dot.setAttribute("cx", point.x.toFixed(1));
    dot.setAttribute("cy", point.y.toFixed(1));
    dot.setAttribute("r", "6");
    const status = document.getElementById("map-help");
    if (status) status.textContent = `已选住址：纬度 ${lat.value}，经度 ${lon.value}。按“查找去向”即可。`;
  });
}

document.addEventListener("DOMContentLoaded", () => {
  document.querySelectorAll("input[data-complete]").forEach(completeNames);
  const map = document.querySelector("svg.map.pickable");
  if (map) pickOnMap(map);
  const live = document.getElementById("live");
  if (live) liveWorklist(live);
  const printButton = document.getElementById("print-button");
  if (printButton) {
    printButton.hidden = false;  // shown only where the script runs
    printButton.addEventListener("click", () => window.print());
  }
  // A refusal anywhere on the page comes first: a refused form below the answer must not hide behind it.
  const heading = document.querySelector(".error-summary h2") || document.querySelector(".answer h2[tabindex]");
  if (heading && !heading.hasAttribute("tabindex")) heading.setAttribute("tabindex", "-1");
  if (heading) heading.focus();
});

// The worklist's live changes: one EventSource per open page. Each change counts in the badge; a row already
// shown is fetched again and replaced, a new one is inserted at the top of its table; both are marked "new".
// Without the script (or the stream), a plain reload shows the same.
function liveWorklist(box) {
  if (!window.EventSource) return;
  const badge = document.getElementById("live-count");
  const reload = document.getElementById("live-reload");
  let changes = 0;
  const stream = new EventSource(box.dataset.stream);
  async function showRow(number) {
    const response = await fetch(box.dataset.rows + encodeURIComponent(number), { headers: { Accept: "text/html" } });
    if (!response.ok) return;
    const holder = document.createElement("tbody");
    holder.innerHTML = (await response.text()).trim();
    const row = holder.querySelector("tr");
    if (!row) return;
    const shown = document.getElementById(row.id);
    if (shown) {
      shown.replaceWith(row);
      return;
    }
    const body = document.getElementById(`rows-${row.dataset.side}`);
    if (!body) return;
    body.prepend(row);
    const empty = document.getElementById(`${row.dataset.side}-empty`);
    if (empty) empty.hidden = true;
  }
  stream.addEventListener("change", (event) => {
    const change = JSON.parse(event.data);
    changes += 1;
    badge.textContent = `${changes} 条新变化`;
    badge.classList.add("has-changes");
    reload.hidden = false;
    showRow(change.number).catch(() => {});
  });
  stream.addEventListener("reload", () => {
    badge.textContent = "变化较多，请刷新列表";
    reload.hidden = false;
  });
  stream.addEventListener("signin", () => stream.close());
}
