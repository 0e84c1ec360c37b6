import type { ReactNode } from "react";

export function Card({ title, children, wide = false }: { title: string; children: ReactNode; wide?: boolean }) {
  return (
    <section className={wide ? "card card-wide" : "card"}>
      <h2>{title}</h2>
      <div className="chart">{children}</div>
    </section>
  );
}
