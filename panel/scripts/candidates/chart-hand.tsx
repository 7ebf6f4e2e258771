// The hand-written ratings chart (SVG).
import { render } from "solid-js/web";
import { RatingsChart } from "../../src/components/reports/ratings-chart";

render(() => <RatingsChart series={[{ day: "2025-03-01", ratings: 2, average: 4.5 }]} />, document.body);
