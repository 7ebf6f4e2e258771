/**
 * Visitor info, in the upper right of the conversation: where the visitor is
 * (map, place, local time), who they are (name, email, id, editable), whether
 * they are online, the pages they viewed and their browser, system and IP.
 *
 * Someone who only ever wrote by email has none of the web parts: for them
 * the panel shows what is known instead, the address their mail came to and
 * their other conversations (by email address, also shown for web visitors
 * who gave one).
 *
 * Everything here comes from the visitor's browser or the edge and is shown
 * as text; page URLs become links only when they are http(s).
 */
import {
  createEffect,
  createMemo,
  createSignal,
  ErrorBoundary,
  For,
  lazy,
  Match,
  on,
  onCleanup,
  Show,
  Suspense,
  Switch,
  type JSX,
} from "solid-js";
import type { ConversationSummary, VisitorDevice, VisitorInfo, VisitorRef } from "../../../worker/protocol";
import { errorText } from "../lib/api";
import {
  ago,
  clockTime,
  duration,
  fullTime,
  mailboxAddress,
  relativeTime,
  safeHref,
  STATUS_LABEL,
} from "../lib/format";
import { conversationPath } from "../lib/paths";
import { createVisitorInfo } from "../stores/visitor";
import { FormMessage } from "./field";
import { CloseIcon } from "./icons";

// The map and its outlines are a separate chunk, fetched the first time a visitor panel opens.
const WorldMap = lazy(() => import("./world-map"));

const REFRESH_MS = 30_000;

const DEVICE: Record<VisitorDevice, string> = {
  desktop: "Desktop",
  mobile: "Mobile",
  tablet: "Tablet",
  tv: "TV",
  bot: "Bot",
};

export function VisitorInfoPanel(props: {
  conversationId: string;
  /** The visitor as the conversation state has it (carries `verified`). */
  visitor: VisitorRef | null;
  /** Live from the conversation socket; undefined until it answers. */
  online: boolean | undefined;
  /** On screen: refresh while true. */
  active: boolean;
  /** Shown as a drawer: a Close button is offered. */
  onClose?: () => void;
}) {
  const [state, actions] = createVisitorInfo(props.conversationId);

  // Load when shown, and again when the conversation's state says the visitor came, left or was renamed.
  createEffect(
    on(
      () => [props.active, props.online, props.visitor?.name, props.visitor?.email] as const,
      ([active]) => {
        if (active) void actions.load();
      },
    ),
  );
  createEffect(() => {
    if (!props.active) return;
    const timer = setInterval(() => void actions.load(), REFRESH_MS);
    onCleanup(() => clearInterval(timer));
  });

  return (
    <div class="visitor-info">
      <div class="visitor-info-head">
        <h2 class="visitor-info-title">Visitor info</h2>
        <Show when={props.onClose}>
          {(close) => (
            <button type="button" class="icon-button" aria-label="Close visitor info" onClick={() => close()()}>
              <CloseIcon />
            </button>
          )}
        </Show>
      </div>
      <Switch>
        <Match when={state.info}>
          {(info) => (
            <>
              <Show when={state.error}>
                <p class="visitor-info-error small" role="status">
                  Could not refresh: {state.error}
                </p>
              </Show>
              <Show when={info().web}>
                <LocationSection info={info()} />
              </Show>
              <IdentitySection
                info={info()}
                verified={props.visitor?.verified}
                online={props.online ?? info().online}
                onSave={actions.save}
              />
              <Show when={info().mail}>{(mail) => <MailSection mail={mail()} />}</Show>
              <Show when={info().email && (!info().web || (state.threads?.length ?? 0) > 0)}>
                <ThreadsSection threads={state.threads} />
              </Show>
              <Show when={info().web}>
                <PagesSection info={info()} online={props.online ?? info().online} />
                <TechSection info={info()} />
              </Show>
            </>
          )}
        </Match>
        <Match when={state.phase === "error"}>
          <div class="inline-error" role="alert">
            <span>{state.error}</span>
            <button type="button" class="link-button" onClick={() => void actions.load()}>
              Try again
            </button>
          </div>
        </Match>
        <Match when={true}>
          <div class="visitor-info-loading" aria-busy="true">
            <span class="skeleton map-skeleton" />
            <span class="skeleton line" />
            <span class="skeleton line short" />
          </div>
        </Match>
      </Switch>
    </div>
  );
}

function Section(props: { title: string; testId?: string; children: JSX.Element; aside?: JSX.Element }) {
  const id = `vi-${props.title.toLowerCase().replace(/\W+/g, "-")}`;
  return (
    <section class="vi-section" aria-labelledby={id} data-testid={props.testId}>
      <h3 id={id} class="vi-heading">
        <span>{props.title}</span>
        {props.aside}
      </h3>
      {props.children}
    </section>
  );
}

// ---------------------------------------------------------------- location

function countryName(code: string | null): string | null {
  if (!code) return null;
  try {
    return new Intl.DisplayNames(undefined, { type: "region" }).of(code.toUpperCase()) ?? code;
  } catch {
    return code;
  }
}

/** A formatter for the zone, or null if the browser does not know it. */
function zoneFormatter(timeZone: string | null): Intl.DateTimeFormat | null {
  if (!timeZone) return null;
  try {
    return new Intl.DateTimeFormat(undefined, { timeZone, hour: "2-digit", minute: "2-digit", weekday: "short" });
  } catch {
    return null;
  }
}

/** The current time, ticking on each new minute. */
function createMinuteClock() {
  const [time, setTime] = createSignal(Date.now());
  let interval: ReturnType<typeof setInterval> | undefined;
  const timeout = setTimeout(
    () => {
      setTime(Date.now());
      interval = setInterval(() => setTime(Date.now()), 60_000);
    },
    60_000 - (Date.now() % 60_000) + 50,
  );
  onCleanup(() => {
    clearTimeout(timeout);
    clearInterval(interval);
  });
  return time;
}

function LocationSection(props: { info: VisitorInfo }) {
  const loc = () => props.info.location;
  const place = () => {
    const l = loc();
    if (!l) return "";
    return [l.city, l.region, countryName(l.country)].filter((x): x is string => !!x && x.trim() !== "").join(", ");
  };
  const formatter = createMemo(() => zoneFormatter(loc()?.timezone ?? null));
  const clock = createMinuteClock();
  const label = () => (place() ? `World map showing the visitor in ${place()}` : "World map; the location is unknown");

  return (
    <section class="vi-section vi-location" aria-label="Location">
      <div class="map-box">
        {/* The chunk may fail to load (offline, a new deploy removed it): the rest of the panel stays. */}
        <ErrorBoundary fallback={<p class="map-missing muted small">The map could not be loaded.</p>}>
          <Suspense fallback={<span class="skeleton map-skeleton" />}>
            <WorldMap
              country={loc()?.country ?? null}
              latitude={loc()?.latitude ?? null}
              longitude={loc()?.longitude ?? null}
              label={label()}
            />
          </Suspense>
        </ErrorBoundary>
      </div>
      <p class="vi-place" data-testid="visitor-place">
        {place() || <span class="muted">Location unknown</span>}
      </p>
      <Show when={formatter()}>
        {(f) => (
          <p class="vi-local-time muted small" data-testid="visitor-local-time">
            <time>{f().format(clock())}</time> local time ({loc()?.timezone})
          </p>
        )}
      </Show>
    </section>
  );
}

// ---------------------------------------------------------------- identity

function IdentitySection(props: {
  info: VisitorInfo;
  verified: boolean | undefined;
  online: boolean;
  onSave: (input: { name: string | null; email: string | null }) => Promise<void>;
}) {
  const [editing, setEditing] = createSignal(false);
  const [name, setName] = createSignal("");
  const [email, setEmail] = createSignal("");
  const [busy, setBusy] = createSignal(false);
  const [error, setError] = createSignal<string | null>(null);
  let editButton: HTMLButtonElement | undefined;
  let nameInput: HTMLInputElement | undefined;

  const open = () => {
    setName(props.info.name ?? "");
    setEmail(props.info.email ?? "");
    setError(null);
    setEditing(true);
    queueMicrotask(() => nameInput?.focus());
  };
  const close = () => {
    setEditing(false);
    queueMicrotask(() => editButton?.focus());
  };
  const submit = async (e: SubmitEvent) => {
    e.preventDefault();
    if (busy()) return;
    setBusy(true);
    setError(null);
    try {
      // An emptied field clears the value.
      await props.onSave({ name: name().trim() || null, email: email().trim() || null });
      close();
    } catch (err) {
      setError(errorText(err));
    } finally {
      setBusy(false);
    }
  };

  return (
    <Section
      title="Visitor"
      testId="visitor-identity"
      aside={
        <Show when={!editing()}>
          <button
            type="button"
            class="link-button small"
            ref={editButton}
            onClick={open}
            aria-label="Edit the visitor's name and email"
            data-testid="visitor-edit"
          >
            Edit
          </button>
        </Show>
      }
    >
      <p class="vi-presence" data-testid="visitor-presence">
        <Switch
          fallback={
            <span class="presence">{props.info.lastSeen ? `Last seen ${ago(props.info.lastSeen)}` : "Offline"}</span>
          }
        >
          <Match when={props.online}>
            <span class="presence online">Online now</span>
          </Match>
          <Match when={!props.info.web && props.info.mail}>
            {(mail) => <span>Writes by email · last mail {ago(mail().lastAt)}</span>}
          </Match>
        </Switch>
        <Show when={props.verified !== undefined}>
          <span
            class="tag"
            classList={{ "tag-ok": props.verified === true, "tag-warn": props.verified === false }}
            data-testid="visitor-verified"
            title={
              props.verified
                ? "The site vouched for this identity (signed with the identity secret)."
                : "The site gave this name without a valid signature: it may not be who they say."
            }
          >
            {props.verified ? "Verified" : "Unverified"}
          </span>
        </Show>
      </p>
      <Show
        when={editing()}
        fallback={
          <dl class="vi-list">
            <dt>Name</dt>
            <dd>{props.info.name || <span class="muted">Not given</span>}</dd>
            <dt>Email</dt>
            <dd class="vi-break">{props.info.email || <span class="muted">Not given</span>}</dd>
            <dt>ID</dt>
            <dd class="vi-mono vi-break" data-testid="visitor-id">
              {props.info.id}
            </dd>
          </dl>
        }
      >
        <form class="vi-edit" onSubmit={submit} novalidate data-testid="visitor-edit-form">
          <FormMessage kind="error" message={error()} />
          <label class="field">
            <span>Name</span>
            <input
              ref={nameInput}
              name="name"
              autocomplete="off"
              maxLength={80}
              value={name()}
              onInput={(e) => setName(e.currentTarget.value)}
            />
          </label>
          <label class="field">
            <span>Email</span>
            <input
              name="email"
              type="email"
              autocomplete="off"
              maxLength={254}
              value={email()}
              onInput={(e) => setEmail(e.currentTarget.value)}
            />
          </label>
          <p class="muted small">Leave a field empty to clear it.</p>
          <div class="vi-edit-actions">
            <button type="submit" class="button primary small" disabled={busy()}>
              {busy() ? "Saving…" : "Save"}
            </button>
            <button type="button" class="button secondary small" disabled={busy()} onClick={close}>
              Cancel
            </button>
          </div>
        </form>
      </Show>
    </Section>
  );
}

// ---------------------------------------------------------------- email

function MailSection(props: { mail: NonNullable<VisitorInfo["mail"]> }) {
  return (
    <Section title="Email" testId="visitor-mail">
      <dl class="vi-list">
        <dt>Wrote to</dt>
        <dd data-testid="visitor-mailbox" title={props.mail.to}>
          {mailboxAddress(props.mail.to)}
        </dd>
        <dt>Mails</dt>
        <dd data-testid="visitor-mail-count">{props.mail.count}</dd>
        <dt>First</dt>
        <dd>
          <time datetime={new Date(props.mail.firstAt).toISOString()} title={fullTime(props.mail.firstAt)}>
            {ago(props.mail.firstAt)}
          </time>
        </dd>
      </dl>
    </Section>
  );
}

/** The visitor's other conversations (same email address), newest first, each a link. */
function ThreadsSection(props: { threads: ConversationSummary[] | null }) {
  return (
    <Section
      title="Other conversations"
      testId="visitor-threads"
      aside={
        <Show when={props.threads}>
          {(list) => (
            <span class="count" data-testid="visitor-threads-count">
              {list().length}
            </span>
          )}
        </Show>
      }
    >
      <Switch>
        <Match when={props.threads === null}>
          <span class="skeleton line" aria-busy="true" aria-label="Loading other conversations" />
        </Match>
        <Match when={props.threads?.length === 0}>
          <p class="muted small">No other conversations with this address.</p>
        </Match>
        <Match when={props.threads}>
          {(list) => (
            <ul class="vi-threads">
              <For each={list()}>
                {(c) => (
                  <li data-testid="visitor-thread">
                    <a class="vi-thread" href={conversationPath(c.id)}>
                      <span class="vi-thread-preview ellipsis" title={c.preview}>
                        {c.preview || "…"}
                      </span>
                      <span class="vi-thread-meta muted small">
                        <span class={`status-pill status-${c.status}`}>{STATUS_LABEL[c.status]}</span>
                        <time datetime={new Date(c.lastAt).toISOString()} title={fullTime(c.lastAt)}>
                          {relativeTime(c.lastAt)}
                        </time>
                      </span>
                    </a>
                  </li>
                )}
              </For>
            </ul>
          )}
        </Match>
      </Switch>
    </Section>
  );
}

// ---------------------------------------------------------------- pages

const PAGES_SHOWN = 8;

function PageLink(props: { url: string; class?: string }) {
  return (
    <Show when={safeHref(props.url)} fallback={<span class={`vi-break ${props.class ?? ""}`}>{props.url}</span>}>
      {(href) => (
        <a class={`vi-break ${props.class ?? ""}`} href={href()} target="_blank" rel="noopener noreferrer">
          {props.url}
        </a>
      )}
    </Show>
  );
}

function PagesSection(props: { info: VisitorInfo; online: boolean }) {
  const [all, setAll] = createSignal(false);
  const items = () => (all() ? props.info.pages.items : props.info.pages.items.slice(0, PAGES_SHOWN));
  return (
    <Section
      title="Pages viewed"
      testId="visitor-pages"
      aside={
        <span class="count" data-testid="visitor-pages-count">
          {props.info.pages.count}
        </span>
      }
    >
      <Show when={props.info.pages.items.length > 0} fallback={<p class="muted small">No page views recorded.</p>}>
        <ol class="vi-pages">
          <For each={items()}>
            {(p, i) => (
              <li class="vi-page" data-testid="visitor-page">
                <span class="vi-page-title">{p.title.trim() || "Untitled page"}</span>
                <PageLink url={p.url} class="vi-page-url small" />
                <span class="muted small">
                  <time datetime={new Date(p.at).toISOString()} title={fullTime(p.at)}>
                    {clockTime(p.at)}
                  </time>
                  {" · "}
                  {p.ms !== null
                    ? `${duration(p.ms)} on page`
                    : i() === 0 && props.online
                      ? "viewing now"
                      : "time on page unknown"}
                </span>
              </li>
            )}
          </For>
        </ol>
        <Show when={props.info.pages.items.length > PAGES_SHOWN}>
          <button type="button" class="link-button small" aria-expanded={all()} onClick={() => setAll(!all())}>
            {all() ? "Show fewer" : `Show all ${props.info.pages.items.length}`}
          </button>
        </Show>
      </Show>
      <p class="vi-referrer small">
        <span class="muted">First came from: </span>
        <Show when={props.info.referrer} fallback={<span>direct visit (no referrer)</span>}>
          {(r) => <PageLink url={r()} />}
        </Show>
      </p>
    </Section>
  );
}

// ---------------------------------------------------------------- technology

function TechSection(props: { info: VisitorInfo }) {
  const versioned = (x: { name: string; version: string | null } | null) =>
    x ? [x.name, x.version].filter(Boolean).join(" ") : null;
  const unknown = () => <span class="muted">Unknown</span>;
  return (
    <Section title="Browser and device" testId="visitor-tech">
      <dl class="vi-list">
        <dt>Browser</dt>
        <dd data-testid="visitor-browser">{versioned(props.info.browser) ?? unknown()}</dd>
        <dt>System</dt>
        <dd data-testid="visitor-os">{versioned(props.info.os) ?? unknown()}</dd>
        <dt>Device</dt>
        <dd data-testid="visitor-device">
          {props.info.device ? DEVICE[props.info.device] : unknown()}
          <Show when={props.info.bot}>
            {" "}
            <span class="tag tag-warn" data-testid="visitor-bot">
              Bot
            </span>
          </Show>
        </dd>
        <dt>IP address</dt>
        <dd class="vi-mono" data-testid="visitor-ip">
          {props.info.ip ?? unknown()}
        </dd>
      </dl>
    </Section>
  );
}
