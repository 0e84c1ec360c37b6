/** Counts over time as small bars (an error group's occurrences across the range). */
export function Sparkline({ values, label }: { values: number[]; label: string }) {
  const top = Math.max(1, ...values);
  const width = values.length * 3;
  return (
    <svg role="img" aria-label={label} viewBox={`0 0 ${width} 16`} preserveAspectRatio="none" className="h-4 w-18 shrink-0">
      {values.map((v, i) => {
        // A single occurrence beside a tall bar still shows.
        const h = v > 0 ? Math.max(2, (v / top) * 16) : 0;
        return h > 0 && <rect key={i} x={i * 3} y={16 - h} width={2} height={h} className="fill-destructive" />;
      })}
    </svg>
  );
}
