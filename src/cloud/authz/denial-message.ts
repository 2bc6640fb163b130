// AWS's STS and IAM deny with words only; the encoded authorization failure message is what other
// AWS services (EC2 and the like) append. A node may append one too (`denialMessages: encoded`), so
// that `sts decode-authorization-message` and `gatepass explain --message` can tell the story.

/** What follows a denial's words: nothing, or the encoded message when the node sealed one. */
export const encodedSuffix = (encoded: string | undefined): string =>
  encoded === undefined ? '' : ` Encoded authorization failure message: ${encoded}`;
