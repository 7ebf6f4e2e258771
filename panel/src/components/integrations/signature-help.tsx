/** How a webhook endpoint checks that a request comes from Microchat. */
export function SignatureHelp() {
  return (
    <div class="signature-help" data-testid="signature-help">
      <h3>Checking the signature</h3>
      <p>Every request carries a header</p>
      <pre tabIndex={0}>
        <code>Microchat-Signature: t=1735689600,v1=5f0c…e9a1</code>
      </pre>
      <p>
        <code>t</code> is the time in Unix seconds and <code>v1</code> the hex HMAC-SHA256 of{" "}
        <code>t + "." + raw body</code>, keyed with the webhook's signing secret. Recompute it over the body exactly as
        received, compare in constant time, and refuse timestamps older than 5 minutes so a captured request cannot be
        replayed. <code>Microchat-Event</code> names the event and <code>Microchat-Delivery</code> is a unique id for
        ignoring repeats.
      </p>
    </div>
  );
}
