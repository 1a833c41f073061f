import { useEffect, useRef, useState } from "preact/hooks";
import uPlot from "uplot";
import "uplot/dist/uPlot.min.css";
import { download, Page, show, Status, Table, toCsv, useGet } from "../components";
import { ep } from "../endpoints";

function Chart(props: { title: string; x: number[]; series: Record<string, number[]> }) {
  const box = useRef<HTMLDivElement>(null);
  useEffect(() => {
    if (!box.current || !props.x.length) return;
    const names = Object.keys(props.series);
    const colors = ["#2563eb", "#dc2626", "#16a34a", "#9333ea", "#ea580c"];
    const plot = new uPlot(
      {
        title: props.title,
        width: Math.min(760, box.current.clientWidth || 600),
        height: 240,
        series: [{}, ...names.map((n, i) => ({ label: n, stroke: colors[i % colors.length], width: 2 }))],
      },
      [props.x, ...names.map((n) => props.series[n])],
      box.current,
    );
    return () => plot.destroy();
  }, [props.title, props.x, props.series]);
  return <div ref={box} class="chart" role="img" aria-label={props.title} />;
}

const PERIODS: [string, string][] = [["today", "Today"], ["7d", "Last 7 days"], ["30d", "Last 30 days"]];

/** KPIs over time, per employee, per queue, missed-call recovery; every table exports as CSV. */
export function Reports(props: { tenant: string }) {
  const [period, setPeriod] = useState("7d");
  const stats = useGet<any>(ep.stats(props.tenant, `?period=${period}`));
  return (
    <Page title="Reports" actions={
      <label>Period{" "}
        <select value={period} onChange={(e) => setPeriod((e.target as HTMLSelectElement).value)}>
          {PERIODS.map(([v, l]) => <option value={v}>{l}</option>)}
        </select>
      </label>}>
      <Status state={stats} what="Statistics">
        {(d) => {
          const series: any[] = d.series ?? d.timeline ?? [];
          const x = series.map((p) => Date.parse(p.t ?? p.time ?? p.bucket) / 1000);
          const keys = series.length ? Object.keys(series[0]).filter((k) => typeof series[0][k] === "number") : [];
          const sections: [string, any[]][] = [
            ["Per employee", d.employees ?? d.per_employee ?? []],
            ["Per queue", d.queues ?? d.per_queue ?? []],
            ["Missed-call recovery", d.missed ?? d.missed_calls ?? d.recovery ?? []],
          ];
          return (
            <>
              {d.kpis && <div class="kpis">{Object.entries(d.kpis).map(([k, v]) => (
                <div class="kpi"><span class="kpi-value">{show(v)}</span><span class="kpi-label">{k.replace(/_/g, " ")}</span></div>))}</div>}
              {x.length > 0 && <Chart title="Calls over time" x={x} series={Object.fromEntries(keys.map((k) => [k, series.map((p) => p[k])]))} />}
              {sections.map(([title, rows]) => {
                const cols = rows.length ? Object.keys(rows[0]) : [];
                return (
                  <section>
                    <h2>{title}</h2>
                    {rows.length > 0 && <button onClick={() => download(`${title.toLowerCase().replace(/\W+/g, "-")}.csv`, toCsv(cols, rows))}>Export CSV</button>}
                    <Table columns={cols.map((c) => [c, c.replace(/_/g, " ")])} rows={rows} empty="No data for this period." />
                  </section>
                );
              })}
            </>
          );
        }}
      </Status>
    </Page>
  );
}
