// uPlot drawing the same chart: bars for the count, a line with dots for the average, two y axes (its CSS too).
import uPlot from "uplot";
import "uplot/dist/uPlot.min.css";

const box = document.createElement("div");
document.body.append(box);
new uPlot(
  {
    width: 640,
    height: 200,
    scales: { x: { time: true }, n: {}, avg: { range: [0, 5] } },
    axes: [{}, { scale: "n" }, { scale: "avg", side: 1 }],
    series: [
      {},
      { label: "Ratings per day", scale: "n", paths: uPlot.paths.bars!({ size: [0.6, 28] }) },
      { label: "Average rating", scale: "avg", points: { show: true } },
    ],
  },
  [[1740787200], [2], [4.5]],
  box,
);
