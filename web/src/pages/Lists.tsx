import { useState } from "preact/hooks";
import { ApiError, del, post } from "../api";
import { Page, Status, Table, TextField, useGet } from "../components";
import { ep } from "../endpoints";

function OneList(props: { tenant: string; name: string; title: string; canWrite: boolean }) {
  const path = `${ep.collection(props.tenant, "lists")}/${props.name}`;
  const list = useGet<any>(path);
  const [number, setNumber] = useState("");
  const [note, setNote] = useState("");
  const [errors, setErrors] = useState<Record<string, string>>({});
  async function add(e: Event) {
    e.preventDefault();
    try {
      await post(`${path}/entries`, note ? { number, note } : { number });
      setNumber(""); setNote(""); setErrors({}); list.reload();
    } catch (err) {
      const ae = err as ApiError;
      setErrors(Object.keys(ae.fields).length ? ae.fields : { number: ae.message }); // keep what was typed
    }
  }
  return (
    <section aria-labelledby={`l-${props.name}`}>
      <h2 id={`l-${props.name}`}>{props.title}</h2>
      <Status state={list} what={props.title}>
        {(d) => (
          <>
            <Table columns={[["number", "Number"], ["note", "Note"]]} rows={d.entries} empty="Empty." />
            {props.canWrite && d.entries.map((en: any) => (
              <button class="link danger" onClick={() => del(`${path}/entries/${encodeURIComponent(en.number)}`).then(list.reload)}>Remove {en.number}</button>))}
          </>
        )}
      </Status>
      {props.canWrite && (
        <form class="editor" onSubmit={add} noValidate aria-label={`Add to the ${props.title}`}>
          <TextField label="Number (E.164, e.g. +15550001234)" name={`${props.name}-number`} type="tel" value={number} onInput={setNumber} error={errors.number} />
          <TextField label="Note" name={`${props.name}-note`} value={note} onInput={setNote} error={errors.note} />
          <button type="submit">Add</button>
        </form>
      )}
    </section>
  );
}

export function Lists(props: { tenant: string; canWrite: boolean }) {
  return (
    <Page title="Black & white lists">
      <OneList tenant={props.tenant} name="blacklist" title="Black list (rejected callers)" canWrite={props.canWrite} />
      <OneList tenant={props.tenant} name="whitelist" title="White list (priority callers)" canWrite={props.canWrite} />
    </Page>
  );
}
