export function StatCard({ label, value, change }: { label: string; value: string; change: string }) {
  const down = change.startsWith("-");
  return (
    <div className="stat">
      <span className="stat-label">{label}</span>
      <strong className="stat-value">{value}</strong>
      <span className={down ? "stat-change down" : "stat-change up"}>{change}</span>
    </div>
  );
}
