import { Page, show, Status, Table, useGet } from "../components";
import { ep } from "../endpoints";

/** Current plan, usage and invoices. */
export function Billing(props: { tenant: string }) {
  const bills = useGet<any>(ep.bills(props.tenant));
  return (
    <Page title="Billing">
      <Status state={bills} what="Billing">
        {(d) => (
          <>
            {d.plan && <p>Current plan: <strong>{show(d.plan.name ?? d.plan)}</strong></p>}
            {d.usage && <div class="kpis">{Object.entries(d.usage).map(([k, v]) => (
              <div class="kpi"><span class="kpi-value">{show(v)}</span><span class="kpi-label">{k.replace(/_/g, " ")}</span></div>))}</div>}
            <h2>Invoices</h2>
            <Table columns={[["period", "Period"], ["total", "Total"], ["currency", "Currency"], ["status", "Status"]]}
              rows={d.items ?? d.bills ?? d.invoices ?? []} empty="No invoices yet." />
          </>
        )}
      </Status>
    </Page>
  );
}
