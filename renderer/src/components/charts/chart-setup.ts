// Chart.js with only the parts the charts use (tree-shaken): line charts on a linear time axis,
// filled areas, tooltips, the legend, and min/max decimation so an hour of points draws in the
// canvas's width.
import { Chart, Decimation, Filler, Legend, LinearScale, LineController, LineElement, PointElement, Tooltip } from 'chart.js';

Chart.register(LineController, LineElement, PointElement, LinearScale, Filler, Tooltip, Legend, Decimation);

export { Chart };
export type { ChartConfiguration, ChartDataset } from 'chart.js';
