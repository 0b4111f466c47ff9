// Static bearer tokens for standalone mode: kube-apiserver's `--token-auth-file` CSV,
// `token,user,uid,"group1,group2"` per line (groups optional), reloaded when the file changes.
import { timingSafeEqual } from 'node:crypto';
import { NOT_MINE, bearerToken, type AuthenticationRequest, type AuthenticationResult, type Authenticator } from './authenticator.js';
import type { UserInfo } from './user.js';

export function parseTokenFile(text: string): Map<string, UserInfo> {
  const tokens = new Map<string, UserInfo>();
  text.split(/\r?\n/).forEach((line, i) => {
    if (line.trim() === '' || line.trimStart().startsWith('#')) return;
    const fields = parseCsvLine(line);
    if (fields.length < 3 || !fields[0] || !fields[1]) {
      throw new Error(`token file line ${i + 1}: expected token,user,uid[,"groups"]`);
    }
    const [token, username, uid, groups] = fields;
    tokens.set(token, {
      username,
      ...(uid ? { uid } : {}),
      groups: groups ? groups.split(',').map((g) => g.trim()).filter((g) => g !== '') : [],
    });
  });
  return tokens;
}

function parseCsvLine(line: string): string[] {
  const fields: string[] = [];
  let field = '';
  let quoted = false;
  for (let i = 0; i < line.length; i++) {
    const c = line[i];
    if (quoted) {
      if (c === '"' && line[i + 1] === '"') {
        field += '"';
        i++;
      } else if (c === '"') quoted = false;
      else field += c;
    } else if (c === '"') quoted = true;
    else if (c === ',') {
      fields.push(field.trim());
      field = '';
    } else field += c;
  }
  fields.push(field.trim());
  return fields;
}

export class TokenFileAuthenticator implements Authenticator {
  readonly name = 'token-file';
  constructor(private readonly tokens: () => Map<string, UserInfo>) {}

  authenticate(req: AuthenticationRequest): AuthenticationResult {
    const token = bearerToken(req.headers);
    if (token === undefined) return NOT_MINE;
    for (const [known, user] of this.tokens()) {
      if (known.length === token.length && timingSafeEqual(Buffer.from(known), Buffer.from(token))) {
        return { kind: 'user', authenticator: this.name, user };
      }
    }
    return { kind: 'error', message: 'invalid bearer token' };
  }
}
