'use strict';
// Runs the s3rver CLI with extra access key ids besides its built-in S3RVER, so a test can tell which key signed a
// request: s3rver 3.7 does not check SigV4 signatures, but refuses access key ids it does not know (InvalidAccessKeyId).
// S3RVER_EXTRA_ACCESS_KEYS: comma-separated access key ids. Every argument goes to the s3rver CLI unchanged.
const { DUMMY_ACCOUNT } = require('s3rver/lib/models/account');

for (const id of (process.env.S3RVER_EXTRA_ACCESS_KEYS || '').split(',').map((s) => s.trim()).filter(Boolean)) {
  DUMMY_ACCOUNT.createKeyPair(id, 'unchecked');
}
require('s3rver/bin/s3rver.js');
