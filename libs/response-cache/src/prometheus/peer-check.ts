import { requireOptionalPeers } from '../optional-peers';

// Imported first by this subpath's index: a missing optional peer fails with a message saying what to install.
requireOptionalPeers('prometheus', ['@willsoto/nestjs-prometheus', 'prom-client']);
