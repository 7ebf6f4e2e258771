/**
 * The visitor's location on a small world map, drawn locally: Natural Earth
 * countries (world-atlas, 1:110m TopoJSON) projected with d3-geo into an SVG.
 * No tile server, no request: the outlines ship inside this module.
 *
 * This file is loaded on demand (`lazy(() => import("./world-map"))`), so the
 * ~100 KB of outlines and the projection code stay out of the panel's main
 * bundle. The paths are projected once, when the module first loads.
 */
import { geoContains, geoGraticule10, geoNaturalEarth1, geoPath } from "d3-geo";
import type { Feature, FeatureCollection, Geometry } from "geojson";
import { For, Show, createMemo } from "solid-js";
import { feature } from "topojson-client";
import type { GeometryCollection, Topology } from "topojson-specification";
import world from "world-atlas/countries-110m.json";

const WIDTH = 320;
const HEIGHT = 150;

type Country = Feature<Geometry, { name: string }> & { id?: string };

const topology = world as unknown as Topology<{ countries: GeometryCollection<{ name: string }> }>;
// Antarctica takes a fifth of the height and no visitor: leave it out.
const countries = (
  feature(topology, topology.objects.countries) as FeatureCollection<Geometry, { name: string }>
).features.filter((f) => (f as Country).id !== "010") as Country[];

const projection = geoNaturalEarth1().fitExtent(
  [
    [2, 2],
    [WIDTH - 2, HEIGHT - 2],
  ],
  { type: "FeatureCollection", features: countries },
);
const path = geoPath(projection);
const graticule = path(geoGraticule10()) ?? "";
const shapes = countries.map((f) => ({ id: f.id ?? "", name: f.properties.name, d: path(f) ?? "", f }));

/**
 * ISO 3166-1 alpha-2 (what the edge reports) → numeric (the atlas's ids), for
 * the countries the 1:110m map draws.
 */
// prettier-ignore
const NUMERIC: Record<string, string> = {
  AE: "784", AF: "004", AL: "008", AM: "051", AO: "024", AR: "032", AT: "040", AU: "036", AZ: "031", BA: "070",
  BD: "050", BE: "056", BF: "854", BG: "100", BI: "108", BJ: "204", BN: "096", BO: "068", BR: "076", BS: "044",
  BT: "064", BW: "072", BY: "112", BZ: "084", CA: "124", CD: "180", CF: "140", CG: "178", CH: "756", CI: "384",
  CL: "152", CM: "120", CN: "156", CO: "170", CR: "188", CU: "192", CY: "196", CZ: "203", DE: "276", DJ: "262",
  DK: "208", DO: "214", DZ: "012", EC: "218", EE: "233", EG: "818", EH: "732", ER: "232", ES: "724", ET: "231",
  FI: "246", FJ: "242", FK: "238", FR: "250", GA: "266", GB: "826", GE: "268", GH: "288", GL: "304", GM: "270",
  GN: "324", GQ: "226", GR: "300", GT: "320", GW: "624", GY: "328", HN: "340", HR: "191", HT: "332", HU: "348",
  ID: "360", IE: "372", IL: "376", IN: "356", IQ: "368", IR: "364", IS: "352", IT: "380", JM: "388", JO: "400",
  JP: "392", KE: "404", KG: "417", KH: "116", KP: "408", KR: "410", KW: "414", KZ: "398", LA: "418", LB: "422",
  LK: "144", LR: "430", LS: "426", LT: "440", LU: "442", LV: "428", LY: "434", MA: "504", MD: "498", ME: "499",
  MG: "450", MK: "807", ML: "466", MM: "104", MN: "496", MR: "478", MW: "454", MX: "484", MY: "458", MZ: "508",
  NA: "516", NC: "540", NE: "562", NG: "566", NI: "558", NL: "528", NO: "578", NP: "524", NZ: "554", OM: "512",
  PA: "591", PE: "604", PG: "598", PH: "608", PK: "586", PL: "616", PR: "630", PS: "275", PT: "620", PY: "600",
  QA: "634", RO: "642", RS: "688", RU: "643", RW: "646", SA: "682", SB: "090", SD: "729", SE: "752", SI: "705",
  SK: "703", SL: "694", SN: "686", SO: "706", SR: "740", SS: "728", SV: "222", SY: "760", SZ: "748", TD: "148",
  TF: "260", TG: "768", TH: "764", TJ: "762", TL: "626", TM: "795", TN: "788", TR: "792", TT: "780", TW: "158",
  TZ: "834", UA: "804", UG: "800", US: "840", UY: "858", UZ: "860", VE: "862", VN: "704", VU: "548", YE: "887",
  ZA: "710", ZM: "894", ZW: "716",
};
/** Drawn without a numeric id in the atlas. */
const BY_NAME: Record<string, string> = { XK: "Kosovo" };

export interface WorldMapProps {
  /** ISO 3166-1 alpha-2, e.g. "NO". */
  country: string | null;
  latitude: number | null;
  longitude: number | null;
  /** What the map shows, in words (the SVG's accessible name). */
  label: string;
}

export default function WorldMap(props: WorldMapProps) {
  const point = createMemo<[number, number] | null>(() => {
    const { latitude: lat, longitude: lon } = props;
    if (lat === null || lon === null || !Number.isFinite(lat) || !Number.isFinite(lon)) return null;
    if (Math.abs(lat) > 90 || Math.abs(lon) > 180) return null;
    return [lon, lat];
  });
  const pin = createMemo(() => {
    const p = point();
    return p ? projection(p) : null;
  });
  // The visitor's country: by code, else the one the pin falls in.
  const highlighted = createMemo(() => {
    const code = props.country?.toUpperCase() ?? "";
    const id = NUMERIC[code];
    const name = BY_NAME[code];
    const byCode = shapes.find((s) => (id ? s.id === id : name ? s.name === name : false));
    if (byCode) return byCode;
    const p = point();
    return p ? shapes.find((s) => geoContains(s.f, p)) : undefined;
  });

  return (
    <svg
      class="world-map"
      viewBox={`0 0 ${WIDTH} ${HEIGHT}`}
      role="img"
      aria-label={props.label}
      data-testid="visitor-map"
      data-country={highlighted()?.id ?? ""}
    >
      <path class="world-graticule" d={graticule} />
      <g class="world-countries">
        <For each={shapes}>
          {(s) => (
            <path class="world-country" classList={{ highlighted: highlighted() === s }} d={s.d}>
              <title>{s.name}</title>
            </path>
          )}
        </For>
      </g>
      <Show when={pin()}>
        {(p) => (
          <g class="world-pin" transform={`translate(${p()[0].toFixed(1)} ${p()[1].toFixed(1)})`} data-testid="map-pin">
            <circle class="world-pin-halo" r="9" />
            <circle class="world-pin-dot" r="3.5" />
          </g>
        )}
      </Show>
    </svg>
  );
}
