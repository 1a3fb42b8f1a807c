/**
 * URLs on the example domains (example.org, example.com, example.net, acme.com, acme.org) point at
 * nothing: the reference validator refuses them ("Example URLs are not allowed in this context")
 * where a URL is meant to be fetched, unless told that the content is an example
 * (`-allow-example-urls`). PeerBridge applies this to Attachment.url, the one place where such a
 * URL is content a reader will try to download (a DocumentReference's document, a photo); other
 * uri elements (identifier systems, canonicals) are names, not locations: see README, "knowingly
 * differs". https://www.rfc-editor.org/rfc/rfc2606#section-3
 */
import type { Report } from './types';

const EXAMPLE_HOST = /^[a-z][a-z0-9+.-]*:\/\/(?:[^/?#@]*@)?(?:[^/?#:]*\.)?(?:example\.(?:org|com|net)|acme\.(?:com|org))(?::\d+)?(?:[/?#]|$)/i;

/** True when a URL's host is an example domain. */
export function isExampleUrl(url: string): boolean {
  return EXAMPLE_HOST.test(url);
}

/** Attachment.url on an example domain. */
export function checkAttachmentUrl(url: unknown, path: string, report: Report): void {
  if (typeof url === 'string' && url.includes('.') && isExampleUrl(url)) {
    report('error', 'value', `Example URLs are not allowed in this context (${url}): an attachment must point where its content can be fetched`, path);
  }
}
