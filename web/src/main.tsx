import { render } from "preact";
import { useEffect, useState } from "preact/hooks";
import { get, post, setUnauthenticatedHandler } from "./api";
import { ep } from "./endpoints";
import { can, type Me, SessionContext } from "./session";
import "./style.css";
import { SignIn } from "./pages/SignIn";
import { Dashboard } from "./pages/Dashboard";
import { Reports } from "./pages/Reports";
import { CallLog, CallTimeline } from "./pages/Calls";
import { Plans } from "./pages/Plans";
import { CollectionPage, COLLECTIONS } from "./pages/Config";
import { Users } from "./pages/Users";
import { Lists } from "./pages/Lists";
import { Audit } from "./pages/Audit";
import { Faxes, Recordings, Voicemail } from "./pages/Media";
import { Billing } from "./pages/Billing";
import { Settings } from "./pages/Settings";
import { AgentView } from "./pages/Agent";

interface NavItem {
  href: string;
  label: string;
  permission: string;
}

const NAV: NavItem[] = [
  { href: "#/agent", label: "My desk", permission: "agent.status_own" },
  { href: "#/dashboard", label: "Live", permission: "live.read" },
  { href: "#/reports", label: "Reports", permission: "stats.read" },
  { href: "#/calls", label: "Call log", permission: "cdrs.read" },
  { href: "#/plans", label: "Routing", permission: "config.read" },
  ...COLLECTIONS.map((c) => ({ href: `#/config/${c.name}`, label: c.title, permission: "config.read" })),
  { href: "#/lists", label: "Black & white lists", permission: "config.read" },
  { href: "#/voicemail", label: "Voicemail", permission: "voicemail.read_own" },
  { href: "#/recordings", label: "Recordings", permission: "recordings.read_team" },
  { href: "#/faxes", label: "Faxes", permission: "faxes.read" },
  { href: "#/users", label: "Users", permission: "users.read" },
  { href: "#/audit", label: "Changes", permission: "audit.read" },
  { href: "#/billing", label: "Billing", permission: "billing.read" },
  { href: "#/settings", label: "Settings", permission: "self" },
];

function useHash(): string {
  const [hash, setHash] = useState(location.hash || "#/");
  useEffect(() => {
    const on = () => setHash(location.hash || "#/");
    addEventListener("hashchange", on);
    on(); // the hash may have changed before this listener existed
    return () => removeEventListener("hashchange", on);
  }, []);
  return hash;
}

function home(me: Me): string {
  const first = NAV.find((n) => n.permission === "self" || can(me, n.permission));
  if (can(me, "live.read")) return "#/dashboard";
  if (can(me, "stats.read")) return "#/reports";
  return first ? first.href : "#/settings";
}

function Redirect(props: { to: string }) {
  useEffect(() => location.replace(props.to), [props.to]);
  return null;
}

function Route(props: { me: Me; hash: string }) {
  const [path, query] = props.hash.slice(1).split("?");
  const parts = path.split("/").filter(Boolean);
  const t = props.me.tenant;
  const nav = NAV.find((n) => n.href === "#/" + parts.slice(0, parts[0] === "config" ? 2 : 1).join("/"));
  // one call's timeline (the explain trail) needs calls.read, the call log itself cdrs.read
  const need = parts[0] === "calls" && parts[1] ? "calls.read" : nav?.permission;
  if (need && need !== "self" && !can(props.me, need))
    return (
      <section class="page">
        <h1>Not allowed</h1>
        <p class="notice error" role="alert">
          Your role ({props.me.user.role}) does not give access to this page.
        </p>
      </section>
    );
  switch (parts[0]) {
    case "dashboard":
      return <Dashboard tenant={t} />;
    case "reports":
      return <Reports tenant={t} />;
    case "calls":
      return parts[1] ? <CallTimeline tenant={t} sid={decodeURIComponent(parts[1])} /> : <CallLog tenant={t} query={query} />;
    case "plans":
      return <Plans tenant={t} canWrite={can(props.me, "plans.publish")} />;
    case "config":
      return <CollectionPage tenant={t} name={parts[1]} canWrite={can(props.me, "config.write")} />;
    case "lists":
      return <Lists tenant={t} canWrite={can(props.me, "config.write")} />;
    case "users":
      return <Users canManage={can(props.me, "users.manage")} me={props.me} />;
    case "audit":
      return <Audit />;
    case "voicemail":
      return <Voicemail tenant={t} all={can(props.me, "voicemail.read")} />;
    case "recordings":
      return <Recordings tenant={t} all={can(props.me, "recordings.read") && can(props.me, "cdrs.read")} />;
    case "faxes":
      return <Faxes tenant={t} />;
    case "billing":
      return <Billing tenant={t} />;
    case "settings":
      return <Settings me={props.me} />;
    case "agent":
      return <AgentView me={props.me} />;
    default:
      return <Redirect to={home(props.me)} />;
  }
}

function Shell(props: { me: Me; onSignOut: () => void }) {
  const hash = useHash();
  const [menuOpen, setMenuOpen] = useState(false);
  useEffect(() => setMenuOpen(false), [hash]);
  const items = NAV.filter((n) => n.permission === "self" || can(props.me, n.permission));
  return (
    <div class="shell">
      <a class="skip" href="#main">Skip to content</a>
      <header class="topbar">
        <button class="menu-toggle" aria-expanded={menuOpen} aria-controls="nav" onClick={() => setMenuOpen(!menuOpen)}>
          Menu
        </button>
        <strong class="brand">vpbx</strong>
        <span class="who" data-testid="who">
          {props.me.user.name} · {props.me.user.role}
        </span>
        <button class="link" onClick={props.onSignOut}>Sign out</button>
      </header>
      <nav id="nav" class={menuOpen ? "open" : ""} aria-label="Main">
        <ul>
          {items.map((n) => (
            <li>
              <a href={n.href} aria-current={hash.startsWith(n.href) ? "page" : undefined}>{n.label}</a>
            </li>
          ))}
        </ul>
      </nav>
      <main id="main">
        <Route me={props.me} hash={hash} />
      </main>
    </div>
  );
}

function App() {
  const [me, setMe] = useState<Me | null>(null);
  const [checked, setChecked] = useState(false);
  useEffect(() => {
    setUnauthenticatedHandler(() => setMe(null));
    get<Me>(ep.me)
      .then(setMe)
      .catch(() => setMe(null))
      .finally(() => setChecked(true));
  }, []);
  if (!checked) return <p aria-busy="true">Loading…</p>;
  return (
    <SessionContext.Provider value={{ me, setMe }}>
      {me ? (
        <Shell
          me={me}
          onSignOut={() => post(ep.logout).finally(() => setMe(null))}
        />
      ) : (
        <SignIn onSignedIn={(m) => setMe(m)} />
      )}
    </SessionContext.Provider>
  );
}

render(<App />, document.getElementById("root")!);
