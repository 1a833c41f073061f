import { useState } from "preact/hooks";
import { Page, Status, Table, useGet } from "../components";
import { ep } from "../endpoints";
import { thisMonth, useZone } from "../time";

/** Current plan (tariff), usage lines and the month's invoice. */
export function Billing(props: { tenant: string }) {
  const [month, setMonth] = useState(thisMonth(useZone()));
  const bill = useGet<any>(ep.bill(props.tenant, month));
  return (
    <Page title="Billing" actions={<label>Month <input type="month" value={month} onChange={(e) => setMonth((e.target as HTMLInputElement).value)} /></label>}>
      <Status state={bill} what="Billing">
        {(d) => (
          <>
            <p>Tariff: <strong>{d.tariff?.id}</strong> v{d.tariff?.version} (since {d.tariff?.effective_from})</p>
            <div class="kpis"><div class="kpi"><span class="kpi-value" data-testid="bill-total">{d.total} {d.currency}</span><span class="kpi-label">Total for {d.month}</span></div>
              <div class="kpi"><span class="kpi-value">{(d.pending_calls ?? []).length}</span><span class="kpi-label">Calls not yet rated</span></div></div>
            <h2>Invoice lines</h2>
            <Table columns={[["description", "Description"], ["quantity", "Quantity"], ["unit", "Unit"], ["amount", "Amount"]]} rows={d.lines ?? []} empty="No lines." />
          </>
        )}
      </Status>
    </Page>
  );
}
