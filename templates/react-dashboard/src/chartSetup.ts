// Chart.js is tree-shakable: register only the pieces the charts use.
import {
  ArcElement,
  BarElement,
  CategoryScale,
  Chart as ChartJS,
  Filler,
  Legend,
  LinearScale,
  LineElement,
  PointElement,
  Title,
  Tooltip,
} from "chart.js";

ChartJS.register(ArcElement, BarElement, CategoryScale, Filler, Legend, LinearScale, LineElement, PointElement, Title, Tooltip);
ChartJS.defaults.maintainAspectRatio = false;
ChartJS.defaults.font.family = "system-ui, -apple-system, Segoe UI, Roboto, sans-serif";
