import { Bar, Doughnut, Line } from "react-chartjs-2";
import "./chartSetup.ts";
import { Card } from "./components/Card.tsx";
import { StatCard } from "./components/StatCard.tsx";
import { expenses, months, revenue, signupsByChannel, stats, trafficSources } from "./data.ts";

const indigo = "#4f46e5";
const rose = "#e11d48";
const palette = ["#4f46e5", "#0ea5e9", "#10b981", "#f59e0b", "#e11d48"];

export default function App() {
  return (
    <div className="layout">
      <header className="header">
        <h1>React Dashboard</h1>
        <p>Sample business metrics, drawn with Chart.js. Edit <code>src/data.ts</code> to change them.</p>
      </header>

      <div className="stats">
        {stats.map((s) => (
          <StatCard key={s.label} {...s} />
        ))}
      </div>

      <div className="grid">
        <Card title="Revenue vs. expenses ($k)" wide>
          <Line
            data={{
              labels: months,
              datasets: [
                { label: "Revenue", data: revenue, borderColor: indigo, backgroundColor: "rgba(79,70,229,0.15)", fill: true, tension: 0.35 },
                { label: "Expenses", data: expenses, borderColor: rose, backgroundColor: rose, tension: 0.35 },
              ],
            }}
            options={{ plugins: { legend: { position: "bottom" } } }}
          />
        </Card>

        <Card title="Sign-ups by channel">
          <Bar
            data={{
              labels: signupsByChannel.labels,
              datasets: [{ label: "Sign-ups", data: signupsByChannel.values, backgroundColor: palette, borderRadius: 6 }],
            }}
            options={{ plugins: { legend: { display: false } } }}
          />
        </Card>

        <Card title="Traffic by device (%)">
          <Doughnut
            data={{
              labels: trafficSources.labels,
              datasets: [{ data: trafficSources.values, backgroundColor: palette.slice(0, 3), borderWidth: 0 }],
            }}
            options={{ cutout: "65%", plugins: { legend: { position: "bottom" } } }}
          />
        </Card>
      </div>
    </div>
  );
}
