# default.vcl without vmod xkey: plain Varnish (>= 6), for where varnish-modules is not installed.
# Purges are bans on the stored `xkey` header (`obj.http.xkey ~ ...`): checked on every lookup
# from the moment they are added, cleaned up by the ban lurker. There is no soft purge: a
# `xkey-softpurge: 1` purge removes the objects like a hard one.
#
# What it does:
# - stores only what the app marked for the edge: a public cached response carries
#   `CDN-Cache-Control: max-age=N` (RFC 9213) and its tags in `xkey`; anything else (per-user,
#   bypassed, errors, `Set-Cookie`, `private`, `no-store`) is never stored here;
# - purges by tag: `PURGE /` with `xkey-purge: tag1 tag2` (and `xkey-softpurge: 1` for a soft
#   purge), from the app's addresses only;
# - never shows `xkey` or `CDN-Cache-Control` to browsers, and adds its entry to `Cache-Status`.
vcl 4.1;

import std;

# The app. docker-compose: the demo service. The tests start Varnish with their own host and port here.
backend default {
    .host = "demo";
    .port = "3000";
    .connect_timeout = 2s;
    .first_byte_timeout = 30s;
}

# Who may purge: the app's instances. Narrow this to their addresses in production.
acl purgers {
    "127.0.0.1";
    "::1";
    "10.0.0.0"/8;
    "172.16.0.0"/12;
    "192.168.0.0"/16;
}

sub vcl_recv {
    if (req.method == "PURGE") {
        if (client.ip !~ purgers) {
            return (synth(403, "Forbidden"));
        }
        if (!req.http.xkey-purge) {
            return (synth(400, "Name the keys to purge in xkey-purge"));
        }
        # The app sends keys in [A-Za-z0-9_:-] (others are hashed), so they are safe in a regex.
        if (req.http.xkey-purge !~ "^[A-Za-z0-9_:-]+( [A-Za-z0-9_:-]+)*$") {
            return (synth(400, "Keys must be [A-Za-z0-9_:-], space separated"));
        }
        ban("obj.http.xkey ~ (^|\s)(" + regsuball(req.http.xkey-purge, " ", "|") + ")(\s|$)");
        return (synth(200, "Banned"));
    }
    # Everything else follows Varnish's built-in rules: only GET and HEAD are looked up, and a
    # request with Authorization or Cookie passes (per-user routes never reach the cache here).
}

sub vcl_backend_response {
    # What the app marked for the edge: max-age of CDN-Cache-Control, grace from its stale-while-revalidate.
    if (beresp.http.CDN-Cache-Control ~ "(^|,)\s*max-age=[0-9]+"
        && beresp.http.CDN-Cache-Control !~ "(no-store|private)"
        && !beresp.http.Set-Cookie
        && beresp.http.Cache-Control !~ "(private|no-store)"
        && beresp.http.Vary != "*") {
        set beresp.ttl = std.duration(regsub(beresp.http.CDN-Cache-Control, "^.*max-age=([0-9]+).*$", "\1s"), 0s);
        if (beresp.http.CDN-Cache-Control ~ "stale-while-revalidate=[0-9]+") {
            set beresp.grace = std.duration(regsub(beresp.http.CDN-Cache-Control, "^.*stale-while-revalidate=([0-9]+).*$", "\1s"), 0s);
        } else {
            set beresp.grace = 0s;
        }
        return (deliver);
    }
    # Not the edge's to keep: the next request for this URL goes to the app too (hit-for-miss).
    set beresp.ttl = 5s;
    set beresp.grace = 0s;
    set beresp.uncacheable = true;
    return (deliver);
}

sub vcl_deliver {
    # Surrogate headers are for this cache: browsers never see them.
    unset resp.http.xkey;
    unset resp.http.CDN-Cache-Control;
    # RFC 9211: the entry of this cache after the app's own.
    if (obj.uncacheable) {
        set resp.http.x-edge = "varnish; fwd=uri-miss";
    } elsif (obj.hits > 0) {
        set resp.http.x-edge = "varnish; hit";
    } else {
        set resp.http.x-edge = "varnish; fwd=uri-miss; stored";
    }
    if (resp.http.Cache-Status) {
        set resp.http.Cache-Status = resp.http.Cache-Status + ", " + resp.http.x-edge;
    } else {
        set resp.http.Cache-Status = resp.http.x-edge;
    }
    unset resp.http.x-edge;
}
