import { useEffect, useRef, useState } from "preact/hooks";
import uPlot from "uplot";
import "uplot/dist/uPlot.min.css";
import { get } from "../api";
import { download, Page, show, Status, Table, toCsv, useGet } from "../components";
import { ep } from "../endpoints";
import { lastDays, useZone } from "../time";

function Chart(props: { title: string; x: number[]; series: Record<string, (number | null)[]> }) {
  const box = useRef<HTMLDivElement>(null);
  useEffect(() => {
    if (!box.current || !props.x.length) return;
    const names = Object.keys(props.series);
    const colors = ["#2563eb", "#dc2626", "#16a34a", "#9333ea"];
    const plot = new uPlot(
      {
        title: props.title,
        width: Math.max(280, Math.min(760, box.current.clientWidth || 600)),
        height: 240,
        series: [{}, ...names.map((n, i) => ({ label: n, stroke: colors[i % colors.length], width: 2 }))],
      },
      [props.x, ...names.map((n) => props.series[n])] as any,
      box.current,
    );
    return () => plot.destroy();
  }, [props.title, props.x, props.series]);
  return <div ref={box} class="chart" role="img" aria-label={props.title} />;
}

/** Rows from the API's {id: figures} maps, nested figures flattened one level ("talk.total"). */
function rows(map: Record<string, any> | undefined, idName: string): any[] {
  return Object.entries(map ?? {}).map(([id, v]) => {
    const row: Record<string, any> = { [idName]: id };
    for (const [k, x] of Object.entries(v ?? {})) {
      if (x && typeof x === "object" && !Array.isArray(x)) for (const [k2, y] of Object.entries(x)) row[`${k}.${k2}`] = y;
      else row[k] = x;
    }
    return row;
  });
}

function Section(props: { title: string; rows: any[] }) {
  const cols = props.rows.length ? Object.keys(props.rows[0]) : [];
  return (
    <section>
      <h2>{props.title}</h2>
      {props.rows.length > 0 && (
        <button onClick={() => download(`${props.title.toLowerCase().replace(/\W+/g, "-")}.csv`, toCsv(cols, props.rows))}>
          Export CSV
        </button>
      )}
      <Table columns={cols.map((c) => [c, c.replace(/_/g, " ")])} rows={props.rows} empty="No data for this period." />
    </section>
  );
}

/** KPIs over time, per employee, per queue, per agent, missed-call recovery; every table exports as CSV. */
export function Reports(props: { tenant: string }) {
  const [days, setDays] = useState(7);
  const list = lastDays(useZone(), days);
  const q = `?from=${list[0]}&to=${list[list.length - 1]}`;
  const employees = useGet<any>(ep.stats(props.tenant, "employees", q));
  const queues = useGet<any>(ep.stats(props.tenant, "queues", q));
  const agents = useGet<any>(ep.stats(props.tenant, "agents", q));
  const kpis = useGet<any>(ep.stats(props.tenant, "kpis", q));
  const [trend, setTrend] = useState<{ x: number[]; series: Record<string, (number | null)[]> } | null>(null);
  useEffect(() => {
    let alive = true;
    Promise.all(list.map((d) => get<any>(ep.stats(props.tenant, "kpis", `?from=${d}&to=${d}`)).catch(() => null))).then((res) => {
      if (!alive || res.every((r) => r === null)) return;
      setTrend({
        x: list.map((d) => Date.parse(d + "T12:00:00Z") / 1000),
        series: {
          "inbound calls": res.map((r) => r?.repeat_callers?.inbound_calls ?? null),
          "missed callers": res.map((r) => r?.missed_call_recovery?.missed_callers ?? null),
          "reached back": res.map((r) => r?.missed_call_recovery?.reached ?? null),
        },
      });
    });
    return () => { alive = false; };
  }, [days, props.tenant]);
  return (
    <Page title="Reports" actions={
      <label>Period{" "}
        <select value={days} onChange={(e) => setDays(Number((e.target as HTMLSelectElement).value))}>
          <option value={1}>Today</option><option value={7}>Last 7 days</option><option value={30}>Last 30 days</option>
        </select>
      </label>}>
      <Status state={kpis} what="Key figures">
        {(d) => (
          <>
            <div class="kpis">
              <Kpi label="Inbound calls" value={show(d.repeat_callers?.inbound_calls)} />
              <Kpi label="Missed callers" value={show(d.missed_call_recovery?.missed_callers)} />
              <Kpi label="Reached back" value={show(d.missed_call_recovery?.reached)} />
              <Kpi label="Recovery rate" value={pct(d.missed_call_recovery?.rate)} />
              <Kpi label="Repeat callers" value={pct(d.repeat_callers?.rate)} />
            </div>
            {trend && <Chart title="Calls per day" x={trend.x} series={trend.series} />}
            <Section title="Missed-call recovery" rows={d.missed_call_recovery?.callers ?? []} />
          </>
        )}
      </Status>
      <Status state={employees} what="Per-employee figures">{(d) => <Section title="Per employee" rows={rows(d.employees, "extension")} />}</Status>
      <Status state={queues} what="Per-queue figures">{(d) => <Section title="Per queue" rows={rows(d.queues, "queue")} />}</Status>
      <Status state={agents} what="Per-agent figures">{(d) => <Section title="Per agent" rows={rows(d.agents, "agent")} />}</Status>
    </Page>
  );
}

function pct(v: unknown): string {
  return v === null || v === undefined ? "–" : `${Math.round(Number(v) * 100)}%`;
}

function Kpi(props: { label: string; value: string }) {
  return <div class="kpi"><span class="kpi-value">{props.value || "–"}</span><span class="kpi-label">{props.label}</span></div>;
}
