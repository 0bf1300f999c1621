using System.Collections.Frozen;
using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using Switchyard.Core.Configs;
using Switchyard.Core.Security;

namespace Switchyard.Gateway.Mcp.Registry;

/// <summary>What one servers file defines, its credentials resolved.</summary>
public sealed record McpServersFileContent
{
    public IReadOnlyList<McpUpstreamServer> Servers { get; init; } = [];

    public IReadOnlyList<McpVirtualServer> VirtualServers { get; init; } = [];

    /// <summary>Mounted secret files the credentials were read from (watched for rotation).</summary>
    public IReadOnlyList<string> SecretFiles { get; init; } = [];
}

/// <summary>
/// Reads one MCP servers file (JSON or YAML): <c>{"servers": {…}, "virtual_servers": {…}}</c>, or Portkey's bare map
/// <c>{"workspace/server": {…}}</c>. A file with any error is refused whole; messages carry the JSON path and never a secret.
/// </summary>
public static partial class McpServersFile
{
    /// <summary>Where credentials and hosts are checked: the environment <c>${NAME}</c> reads, and <c>TRUSTED_CUSTOM_HOSTS</c>.</summary>
    public sealed record Context(Func<string, string?> Environment, CustomHostValidator Hosts);

    /// <summary>Client headers that never go upstream, whatever <c>forward_headers</c> says (naming one is an error).</summary>
    public static FrozenSet<string> ProtectedHeaders { get; } = new[]
    {
        "authorization", "cookie", "x-portkey-api-key", "x-api-key", "x-auth-token", "x-user-claims", "x-user-jwt", "proxy-authorization",
        "mcp-session-id", "host",
    }.ToFrozenSet(StringComparer.OrdinalIgnoreCase);

    /// <summary>Headers the transport itself writes; a configured or forwarded value would corrupt the exchange.</summary>
    private static readonly FrozenSet<string> TransportHeaders = new[]
    {
        "host", "content-length", "content-type", "accept", "connection", "transfer-encoding", "te", "upgrade", "keep-alive",
        "mcp-session-id", "mcp-protocol-version", "last-event-id", "mcp-method", "mcp-name",
    }.ToFrozenSet(StringComparer.OrdinalIgnoreCase);

    /// <summary>Names that would collide with the gateway's own routes when used as a server name or workspace.</summary>
    private static readonly FrozenSet<string> ReservedSegments = new[] { ".well-known", "health", "v1", "metrics" }.ToFrozenSet(StringComparer.OrdinalIgnoreCase);

    private static readonly FrozenSet<string> KnownServerFields = new[]
    {
        "url", "type", "command", "args", "env", "cwd", "headers", "auth_type", "oauth_client_credentials", "forward_headers", "forwardHeaders",
        "tools", "timeouts", "pinning", "rate_limits", "description",
    }.ToFrozenSet(StringComparer.Ordinal);

    /// <summary>Portkey fields this gateway does not implement: refused, never silently ignored.</summary>
    private static readonly FrozenDictionary<string, string> UnsupportedServerFields = new Dictionary<string, string>
    {
        ["user_identity_forwarding"] = "identity forwarding to upstream servers is not supported",
        ["passthroughHeaders"] = "use 'forward_headers' (an allowlist of client header names)",
        ["disablePooling"] = "upstream connections are never pooled across callers here (one upstream session per downstream session), so there is nothing to disable",
        ["jwt_validation"] = "callers are authenticated by the gateway (AUTH_MODE), not per server",
        ["oauth_client_metadata"] = "only 'auth_type: oauth_client_credentials' is supported",
        ["oauth_server_metadata"] = "only 'auth_type: oauth_client_credentials' is supported",
        ["external_auth_config"] = "only 'auth_type: oauth_client_credentials' is supported",
    }.ToFrozenDictionary(StringComparer.Ordinal);

    [GeneratedRegex(@"^[A-Za-z0-9_.-]{1,64}$")]
    private static partial Regex SegmentShape();

    [GeneratedRegex(@"^[A-Za-z_][A-Za-z0-9_]*$")]
    private static partial Regex EnvNameShape();

    [GeneratedRegex(@"^(\d{1,7})(s|m|h|d)$")]
    private static partial Regex WindowShape();

    [GeneratedRegex(@"^[A-Za-z0-9_.-]{1,16}$")]
    private static partial Regex SeparatorShape();

    public static McpServersFileContent? Parse(string text, string fileName, Context context, List<(string Path, string Message)> errors, List<string> warnings)
    {
        var isYaml = !fileName.EndsWith(".json", StringComparison.OrdinalIgnoreCase);
        var root = isYaml ? ConfigText.ParseYaml(text, out var parseError) : ConfigText.ParseJson(text, out parseError);
        if (root is null)
        {
            errors.Add(("", parseError ?? "unreadable"));
            return null;
        }
        if (root is not JsonObject top)
        {
            errors.Add(("", "expected an object: {\"servers\": {…}, \"virtual_servers\": {…}}, or a map of server ids"));
            return null;
        }
        var secretFiles = new List<string>();
        var servers = new List<McpUpstreamServer>();
        var virtuals = new List<McpVirtualServer>();
        var ours = top.ContainsKey("servers") || top.ContainsKey("virtual_servers");
        if (ours)
        {
            foreach (var (field, _) in top.Where(p => p.Key is not ("servers" or "virtual_servers")))
            {
                warnings.Add($"MCP servers file {fileName}: unknown top-level field '{field}', which is ignored");
            }
            if (top["servers"] is { } serversNode)
            {
                if (serversNode is not JsonObject map)
                {
                    errors.Add(("$.servers", "'servers' must be a map of server ids to server definitions"));
                }
                else
                {
                    ParseServers(map, "$.servers", fileName, context, secretFiles, servers, errors, warnings);
                }
            }
            if (top["virtual_servers"] is { } virtualNode)
            {
                if (virtualNode is not JsonObject map)
                {
                    errors.Add(("$.virtual_servers", "'virtual_servers' must be a map of names to virtual server definitions"));
                }
                else
                {
                    foreach (var (name, value) in map)
                    {
                        if (ParseVirtual(name, value, $"$.virtual_servers.{name}", fileName, errors, warnings) is { } v)
                        {
                            virtuals.Add(v);
                        }
                    }
                }
            }
        }
        else
        {
            ParseServers(top, "$", fileName, context, secretFiles, servers, errors, warnings);
        }
        return errors.Count == 0 ? new McpServersFileContent { Servers = servers, VirtualServers = virtuals, SecretFiles = secretFiles } : null;
    }

    private static void ParseServers(JsonObject map, string at, string fileName, Context context, List<string> secretFiles, List<McpUpstreamServer> servers,
        List<(string, string)> errors, List<string> warnings)
    {
        foreach (var (id, value) in map)
        {
            var path = $"{at}.{id}";
            if (value is not JsonObject entry)
            {
                errors.Add((path, $"server '{Printable(id)}' must be an object"));
                continue;
            }
            if (ParseServer(id, entry, path, fileName, context, secretFiles, errors, warnings) is { } server)
            {
                servers.Add(server);
            }
        }
    }

    /// <summary>Checks an id (<c>name</c> or <c>workspace/name</c>); returns the error or null.</summary>
    public static string? CheckId(string id, out string name, out string? workspace)
    {
        var parts = id.Split('/');
        name = parts[^1];
        workspace = parts.Length == 2 ? parts[0] : null;
        if (parts.Length > 2)
        {
            return $"server id '{Printable(id)}' has more than one '/': it is 'name' or 'workspace/name'";
        }
        foreach (var part in parts)
        {
            if (!SegmentShape().IsMatch(part) || part.All(c => c == '.'))
            {
                return $"server id '{Printable(id)}': each part must be 1 to 64 letters, digits, '_', '.' or '-' (and not only dots)";
            }
            if (ReservedSegments.Contains(part))
            {
                return $"server id '{Printable(id)}': '{part}' is reserved for the gateway's own routes";
            }
        }
        if (workspace is not null && string.Equals(workspace, "v", StringComparison.OrdinalIgnoreCase))
        {
            return $"server id '{Printable(id)}': the workspace 'v' is reserved for virtual servers (/v/{{name}}/mcp)";
        }
        return null;
    }

    private static McpUpstreamServer? ParseServer(string id, JsonObject entry, string path, string fileName, Context context, List<string> secretFiles,
        List<(string, string)> errors, List<string> warnings)
    {
        var before = errors.Count;
        if (CheckId(id, out var name, out var workspace) is { } idError)
        {
            errors.Add((path, idError));
        }
        var label = $"server '{Printable(id)}'";
        var r = new Reader(context, label, secretFiles, errors);

        foreach (var (field, value) in entry)
        {
            if (KnownServerFields.Contains(field))
            {
                continue;
            }
            var fieldAt = $"{path}.{field}";
            if (UnsupportedServerFields.TryGetValue(field, out var why))
            {
                errors.Add((fieldAt, $"{label}: '{field}' is not supported by this gateway ({why})"));
            }
            else if (LooksLikeCredentialField(field))
            {
                // Not echoed: it is most likely a misspelt credential field holding the secret itself.
                errors.Add((fieldAt, $"{label}: unknown field '{field}'"));
            }
            else
            {
                warnings.Add($"MCP servers file {fileName}: {label} has an unknown field '{field}', which is ignored");
            }
        }

        var url = entry["url"] is { } urlNode ? r.Text(urlNode, $"{path}.url") : null;
        var command = entry["command"] is { } commandNode ? r.Text(commandNode, $"{path}.command") : null;
        McpUpstreamTransport transport;
        var typeText = entry["type"] is { } typeNode ? r.PlainString(typeNode, $"{path}.type") : null;
        switch (typeText)
        {
            case null when entry.ContainsKey("type"):
                transport = McpUpstreamTransport.Auto;
                break;
            case null:
                transport = command is not null && url is null ? McpUpstreamTransport.Stdio : McpUpstreamTransport.Auto;
                break;
            case "http" or "streamable-http" or "streamable_http":
                transport = McpUpstreamTransport.StreamableHttp;
                break;
            case "sse":
                transport = McpUpstreamTransport.Sse;
                break;
            case "http-sse" or "sse-http" or "auto":
                transport = McpUpstreamTransport.Auto;
                break;
            case "stdio":
                transport = McpUpstreamTransport.Stdio;
                break;
            default:
                errors.Add(($"{path}.type", $"{label}: type '{Printable(typeText)}' is not one of http, sse, http-sse, stdio"));
                transport = McpUpstreamTransport.Auto;
                break;
        }

        Uri? uri = null;
        var stdio = transport == McpUpstreamTransport.Stdio;
        if (stdio)
        {
            if (entry.ContainsKey("url"))
            {
                errors.Add(($"{path}.url", $"{label}: a stdio server has a 'command', not a 'url'"));
            }
            if (command is null && !entry.ContainsKey("command"))
            {
                errors.Add((path, $"{label}: a stdio server needs a 'command'"));
            }
            else if (command is not null && command.Trim().Length == 0)
            {
                errors.Add(($"{path}.command", $"{label}: 'command' is empty"));
            }
        }
        else
        {
            foreach (var stdioOnly in new[] { "command", "args", "env", "cwd" })
            {
                if (entry.ContainsKey(stdioOnly))
                {
                    errors.Add(($"{path}.{stdioOnly}", $"{label}: '{stdioOnly}' is for stdio servers; this one is reached over HTTP (it has a 'url' or an HTTP 'type')"));
                }
            }
            if (url is null && !entry.ContainsKey("url"))
            {
                errors.Add((path, $"{label} needs a 'url' (an HTTP server) or a 'command' (a stdio server)"));
            }
            else if (url is not null)
            {
                if (McpUpstreamUrl.TryValidate(url, context.Hosts, out var valid, out var urlError))
                {
                    uri = valid;
                }
                else
                {
                    errors.Add(($"{path}.url", $"{label}: {urlError}"));
                }
            }
        }

        var args = entry["args"] is { } argsNode ? r.TextList(argsNode, $"{path}.args") : null;
        var env = new Dictionary<string, string>(StringComparer.Ordinal);
        if (entry["env"] is { } envNode)
        {
            if (envNode is not JsonObject envObject)
            {
                errors.Add(($"{path}.env", $"{label}: 'env' must be an object of variable names and string values"));
            }
            else
            {
                foreach (var (variable, value) in envObject)
                {
                    var at = $"{path}.env.{variable}";
                    if (!EnvNameShape().IsMatch(variable))
                    {
                        errors.Add((at, $"{label}: '{Printable(variable)}' is not an environment variable name"));
                        continue;
                    }
                    if (value is null)
                    {
                        errors.Add((at, $"{label}: env '{variable}' needs a value"));
                        continue;
                    }
                    if ((LooksLikeCredentialVariable(variable) ? r.Secret(value, at) : r.Text(value, at)) is { } resolved)
                    {
                        env[variable] = resolved;
                    }
                }
            }
        }
        var cwd = entry["cwd"] is { } cwdNode ? r.Text(cwdNode, $"{path}.cwd") : null;

        var headers = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
        if (entry["headers"] is { } headersNode)
        {
            if (stdio)
            {
                errors.Add(($"{path}.headers", $"{label}: 'headers' are for HTTP servers; give a stdio server its credentials in 'env'"));
            }
            else if (headersNode is not JsonObject headerObject)
            {
                errors.Add(($"{path}.headers", $"{label}: 'headers' must be an object of header names and string values"));
            }
            else
            {
                foreach (var (header, value) in headerObject)
                {
                    var at = $"{path}.headers.{header}";
                    if (!IsHeaderName(header))
                    {
                        errors.Add((at, $"{label}: '{Printable(header)}' is not a header name"));
                        continue;
                    }
                    if (TransportHeaders.Contains(header))
                    {
                        errors.Add((at, $"{label}: header '{header}' is written by the MCP transport and cannot be configured"));
                        continue;
                    }
                    if (value is null)
                    {
                        errors.Add((at, $"{label}: header '{header}' needs a string value"));
                        continue;
                    }
                    var resolved = SecretReferences.IsCredentialHeader(header) ? r.Secret(value, at) : r.Text(value, at);
                    if (resolved is null)
                    {
                        continue;
                    }
                    if (!IsHeaderSafe(resolved))
                    {
                        errors.Add((at, $"{label}: header '{header}' must be printable ASCII"));
                        continue;
                    }
                    headers[header] = resolved;
                }
            }
        }

        var authType = entry["auth_type"] is { } authNode ? r.PlainString(authNode, $"{path}.auth_type") : null;
        McpClientCredentials? credentials = null;
        switch (authType)
        {
            case null or "none" or "headers":
                if (authType is not null && entry.ContainsKey("oauth_client_credentials"))
                {
                    errors.Add(($"{path}.oauth_client_credentials", $"{label}: 'oauth_client_credentials' is set but auth_type is '{authType}'; set auth_type: oauth_client_credentials"));
                }
                else if (entry["oauth_client_credentials"] is { } implied)
                {
                    credentials = ParseClientCredentials(implied, $"{path}.oauth_client_credentials", label, uri, context, r, errors, warnings, fileName);
                }
                break;
            case "oauth_client_credentials":
                if (entry["oauth_client_credentials"] is { } block)
                {
                    credentials = ParseClientCredentials(block, $"{path}.oauth_client_credentials", label, uri, context, r, errors, warnings, fileName);
                }
                else
                {
                    errors.Add(($"{path}.oauth_client_credentials", $"{label}: auth_type oauth_client_credentials needs an 'oauth_client_credentials' block (token_url, client_id, client_secret)"));
                }
                break;
            case "oauth_auto":
                errors.Add(($"{path}.auth_type", $"{label}: auth_type 'oauth_auto' (per-user MCP OAuth) is not supported by this gateway; use 'headers' or 'oauth_client_credentials'"));
                break;
            default:
                errors.Add(($"{path}.auth_type", $"{label}: auth_type '{Printable(authType)}' is not one of none, headers, oauth_client_credentials"));
                break;
        }
        if (entry.ContainsKey("oauth_client_credentials") && stdio)
        {
            errors.Add(($"{path}.oauth_client_credentials", $"{label}: OAuth applies to HTTP servers only"));
        }
        if (credentials is not null && headers.ContainsKey("authorization"))
        {
            errors.Add(($"{path}.headers.authorization", $"{label}: an Authorization header and oauth_client_credentials both set the upstream credential; keep one"));
        }

        var forward = new HashSet<string>(StringComparer.OrdinalIgnoreCase);
        if (entry.ContainsKey("forward_headers") && entry.ContainsKey("forwardHeaders"))
        {
            errors.Add(($"{path}.forwardHeaders", $"{label}: set 'forward_headers' or Portkey's 'forwardHeaders', not both"));
        }
        var forwardField = entry.ContainsKey("forward_headers") ? "forward_headers" : "forwardHeaders";
        if (entry[forwardField] is { } forwardNode)
        {
            var at = $"{path}.{forwardField}";
            JsonNode? list = forwardNode;
            if (forwardNode is JsonObject modeObject)
            {
                var mode = modeObject["mode"] is { } modeNode ? r.PlainString(modeNode, $"{at}.mode") : null;
                if (mode is not (null or "allowlist"))
                {
                    errors.Add(($"{at}.mode", $"{label}: forward mode '{Printable(mode)}' is not supported; only an allowlist of header names is"));
                }
                list = modeObject["headers"];
                foreach (var (field, _) in modeObject.Where(p => p.Key is not ("mode" or "headers")))
                {
                    warnings.Add($"MCP servers file {fileName}: {label} has an unknown field '{forwardField}.{field}', which is ignored");
                }
            }
            if (stdio)
            {
                errors.Add((at, $"{label}: forwarding client headers applies to HTTP servers only"));
            }
            else if (list is null || r.StringList(list, at) is not { } names)
            {
                if (list is null)
                {
                    errors.Add((at, $"{label}: '{forwardField}' must be a list of header names"));
                }
            }
            else
            {
                foreach (var header in names)
                {
                    if (!IsHeaderName(header))
                    {
                        errors.Add((at, $"{label}: '{Printable(header)}' is not a header name"));
                    }
                    else if (ProtectedHeaders.Contains(header))
                    {
                        errors.Add((at, $"{label}: '{header}' carries the caller's credentials or session and is never forwarded upstream"));
                    }
                    else if (TransportHeaders.Contains(header))
                    {
                        errors.Add((at, $"{label}: '{header}' is written by the MCP transport and cannot be forwarded"));
                    }
                    else if (headers.ContainsKey(header))
                    {
                        errors.Add((at, $"{label}: '{header}' is also a configured header; the configured value is what goes upstream, so do not forward it"));
                    }
                    else
                    {
                        forward.Add(header.ToLowerInvariant());
                    }
                }
            }
        }

        var tools = McpToolRules.All;
        if (entry["tools"] is { } toolsNode)
        {
            tools = ParseTools(toolsNode, $"{path}.tools", label, fileName, r, errors, warnings);
        }

        var connect = TimeSpan.FromSeconds(10);
        var request = TimeSpan.FromSeconds(60);
        if (entry["timeouts"] is { } timeoutsNode)
        {
            if (timeoutsNode is not JsonObject timeouts)
            {
                errors.Add(($"{path}.timeouts", $"{label}: 'timeouts' must be an object with connect_ms and request_ms"));
            }
            else
            {
                foreach (var (field, value) in timeouts)
                {
                    var at = $"{path}.timeouts.{field}";
                    switch (field)
                    {
                        case "connect_ms" when r.Int(value, at, 100, 600_000) is { } ms:
                            connect = TimeSpan.FromMilliseconds(ms);
                            break;
                        case "request_ms" when r.Int(value, at, 100, 86_400_000) is { } ms:
                            request = TimeSpan.FromMilliseconds(ms);
                            break;
                        case "connect_ms" or "request_ms":
                            break;
                        default:
                            warnings.Add($"MCP servers file {fileName}: {label} has an unknown field 'timeouts.{field}', which is ignored");
                            break;
                    }
                }
            }
        }

        var pinning = McpPinMode.Off;
        if (entry["pinning"] is { } pinNode)
        {
            switch (pinNode is JsonValue pv && pv.GetValueKind() == JsonValueKind.False ? "off" : r.PlainString(pinNode, $"{path}.pinning"))
            {
                case "off":
                    break;
                case "alert":
                    pinning = McpPinMode.Alert;
                    break;
                case "block":
                    pinning = McpPinMode.Block;
                    break;
                case { } other:
                    errors.Add(($"{path}.pinning", $"{label}: pinning '{Printable(other)}' is not one of off, alert, block"));
                    break;
            }
        }

        var limits = new List<McpRateLimit>();
        if (entry["rate_limits"] is { } limitsNode)
        {
            ParseRateLimits(limitsNode, $"{path}.rate_limits", label, fileName, r, limits, errors, warnings);
        }
        if (entry["description"] is { } descriptionNode)
        {
            r.Text(descriptionNode, $"{path}.description");
        }

        if (errors.Count > before)
        {
            return null;
        }
        return new McpUpstreamServer
        {
            Id = id,
            Name = name,
            Workspace = workspace,
            Transport = transport,
            Url = uri,
            Command = stdio ? command!.Trim() : null,
            Arguments = args ?? [],
            Environment = env.ToFrozenDictionary(StringComparer.Ordinal),
            WorkingDirectory = cwd,
            Headers = headers.ToFrozenDictionary(StringComparer.OrdinalIgnoreCase),
            ClientCredentials = credentials,
            ForwardHeaders = forward.ToFrozenSet(StringComparer.OrdinalIgnoreCase),
            Tools = tools,
            ConnectTimeout = connect,
            RequestTimeout = request,
            Pinning = pinning,
            RateLimits = limits,
            File = fileName,
        };
    }

    private static McpClientCredentials? ParseClientCredentials(JsonNode node, string at, string label, Uri? serverUrl, Context context, Reader r,
        List<(string, string)> errors, List<string> warnings, string fileName)
    {
        if (node is not JsonObject block)
        {
            errors.Add((at, $"{label}: 'oauth_client_credentials' must be an object (token_url, client_id, client_secret, scope, resource)"));
            return null;
        }
        var before = errors.Count;
        Uri? tokenUrl = null;
        if (block["token_url"] is { } tokenNode)
        {
            if (r.Text(tokenNode, $"{at}.token_url") is { } text)
            {
                if (McpUpstreamUrl.TryValidate(text, context.Hosts, out var valid, out var urlError))
                {
                    tokenUrl = valid;
                }
                else
                {
                    errors.Add(($"{at}.token_url", $"{label}: token_url: {urlError}"));
                }
            }
        }
        else
        {
            errors.Add(($"{at}.token_url", $"{label}: oauth_client_credentials needs 'token_url'"));
        }
        var clientId = block["client_id"] is { } idNode ? r.Text(idNode, $"{at}.client_id") : null;
        if (!block.ContainsKey("client_id"))
        {
            errors.Add(($"{at}.client_id", $"{label}: oauth_client_credentials needs 'client_id'"));
        }
        var secret = block["client_secret"] is { } secretNode ? r.Secret(secretNode, $"{at}.client_secret") : null;
        if (!block.ContainsKey("client_secret"))
        {
            errors.Add(($"{at}.client_secret", $"{label}: oauth_client_credentials needs 'client_secret' (as ${{NAME}})"));
        }
        string? scope = null;
        if (block["scope"] is { } scopeNode)
        {
            scope = scopeNode is JsonArray ? r.StringList(scopeNode, $"{at}.scope") is { } scopes ? string.Join(' ', scopes) : null : r.Text(scopeNode, $"{at}.scope");
        }
        var resource = block["resource"] is { } resourceNode ? r.Text(resourceNode, $"{at}.resource") : null;
        foreach (var (field, _) in block)
        {
            if (field is "token_url" or "client_id" or "client_secret" or "scope" or "resource")
            {
                continue;
            }
            if (LooksLikeCredentialField(field))
            {
                errors.Add(($"{at}.{field}", $"{label}: unknown field '{field}'"));
            }
            else
            {
                warnings.Add($"MCP servers file {fileName}: {label} has an unknown field 'oauth_client_credentials.{field}', which is ignored");
            }
        }
        if (errors.Count > before || tokenUrl is null || clientId is null || secret is null)
        {
            return null;
        }
        return new McpClientCredentials
        {
            TokenUrl = tokenUrl,
            ClientId = clientId,
            ClientSecret = secret,
            Scope = string.IsNullOrWhiteSpace(scope) ? null : scope,
            Resource = resource ?? serverUrl?.AbsoluteUri,
        };
    }

    private static McpToolRules ParseTools(JsonNode node, string at, string label, string fileName, Reader r, List<(string, string)> errors, List<string> warnings)
    {
        if (node is not JsonObject tools)
        {
            errors.Add((at, $"{label}: 'tools' must be an object with 'allowed' and/or 'blocked' lists"));
            return McpToolRules.All;
        }
        List<string>? allowed = null;
        List<string>? blocked = null;
        foreach (var (field, value) in tools)
        {
            switch (field)
            {
                case "allowed":
                    allowed = value is null ? null : r.StringList(value, $"{at}.allowed");
                    break;
                case "blocked":
                    blocked = value is null ? null : r.StringList(value, $"{at}.blocked");
                    break;
                case "rateLimit":
                    errors.Add(($"{at}.rateLimit", $"{label}: 'tools.rateLimit' is not read; use the server's 'rate_limits' list"));
                    break;
                case "logCalls":
                    warnings.Add($"MCP servers file {fileName}: {label} sets 'tools.logCalls', which is ignored: every tool call is always logged");
                    break;
                default:
                    warnings.Add($"MCP servers file {fileName}: {label} has an unknown field 'tools.{field}', which is ignored");
                    break;
            }
        }
        return new McpToolRules
        {
            Allowed = allowed?.ToFrozenSet(StringComparer.Ordinal),
            Blocked = (blocked ?? []).ToFrozenSet(StringComparer.Ordinal),
        };
    }

    private static void ParseRateLimits(JsonNode node, string at, string label, string fileName, Reader r, List<McpRateLimit> limits,
        List<(string, string)> errors, List<string> warnings)
    {
        if (node is not JsonArray list)
        {
            errors.Add((at, $"{label}: 'rate_limits' must be a list of {{tool, per, requests, window}}"));
            return;
        }
        for (var i = 0; i < list.Count; i++)
        {
            var itemAt = $"{at}[{i}]";
            if (list[i] is not JsonObject rule)
            {
                errors.Add((itemAt, $"{label}: a rate limit must be an object {{tool, per, requests, window}}"));
                continue;
            }
            var tool = rule["tool"] is { } toolNode ? r.PlainString(toolNode, $"{itemAt}.tool") : "*";
            var scope = McpRateScope.Caller;
            switch (rule["per"] is { } perNode ? r.PlainString(perNode, $"{itemAt}.per") : "caller")
            {
                case "caller":
                    break;
                case "server":
                    scope = McpRateScope.Server;
                    break;
                case { } other:
                    errors.Add(($"{itemAt}.per", $"{label}: per '{Printable(other)}' is not one of caller, server"));
                    break;
            }
            int? requests = null;
            if (rule["requests"] is { } requestsNode)
            {
                requests = r.Int(requestsNode, $"{itemAt}.requests", 1, 100_000_000);
            }
            else
            {
                errors.Add(($"{itemAt}.requests", $"{label}: a rate limit needs 'requests' (a positive whole number)"));
            }
            TimeSpan? window = null;
            if (rule["window"] is { } windowNode)
            {
                var text = r.PlainString(windowNode, $"{itemAt}.window");
                if (text is not null)
                {
                    window = ParseWindow(text);
                    if (window is null)
                    {
                        errors.Add(($"{itemAt}.window", $"{label}: window '{Printable(text)}' must be a whole number followed by s, m, h or d (30s, 1m, 1h), from 1 s to 30 d"));
                    }
                }
            }
            else
            {
                errors.Add(($"{itemAt}.window", $"{label}: a rate limit needs a 'window' (30s, 1m, 1h)"));
            }
            var sliding = true;
            if (rule["sliding"] is { } slidingNode)
            {
                if (slidingNode.GetValueKind() is System.Text.Json.JsonValueKind.True or System.Text.Json.JsonValueKind.False)
                {
                    sliding = slidingNode.GetValue<bool>();
                }
                else
                {
                    errors.Add(($"{itemAt}.sliding", $"{label}: 'sliding' must be true (a window that moves with each call) or false (fixed windows)"));
                }
            }
            foreach (var (field, _) in rule.Where(p => p.Key is not ("tool" or "per" or "requests" or "window" or "sliding")))
            {
                warnings.Add($"MCP servers file {fileName}: {label} has an unknown field 'rate_limits[{i}].{field}', which is ignored");
            }
            if (tool is not null && requests is { } n && window is { } w)
            {
                limits.Add(new McpRateLimit { Tool = tool, Per = scope, Requests = n, Window = w, Sliding = sliding });
            }
        }
    }

    /// <summary>Reads <c>30s</c>, <c>1m</c>, <c>1h</c>, <c>1d</c>; null when malformed or outside 1 s to 30 days.</summary>
    public static TimeSpan? ParseWindow(string text)
    {
        var m = WindowShape().Match(text.Trim());
        if (!m.Success)
        {
            return null;
        }
        var n = long.Parse(m.Groups[1].Value, CultureInfo.InvariantCulture);
        var window = m.Groups[2].Value switch
        {
            "s" => TimeSpan.FromSeconds(n),
            "m" => TimeSpan.FromMinutes(n),
            "h" => TimeSpan.FromHours(n),
            _ => TimeSpan.FromDays(n),
        };
        return window >= TimeSpan.FromSeconds(1) && window <= TimeSpan.FromDays(30) ? window : null;
    }

    private static McpVirtualServer? ParseVirtual(string name, JsonNode? node, string path, string fileName, List<(string, string)> errors, List<string> warnings)
    {
        var label = $"virtual server '{Printable(name)}'";
        if (node is not JsonObject entry)
        {
            errors.Add((path, $"{label} must be an object with a 'servers' list"));
            return null;
        }
        var before = errors.Count;
        if (!SegmentShape().IsMatch(name) || name.All(c => c == '.'))
        {
            errors.Add((path, $"{label}: the name must be 1 to 64 letters, digits, '_', '.' or '-' (and not only dots); it is served at /v/{{name}}/mcp"));
        }
        var r = new Reader(new Context(_ => null, new CustomHostValidator(null)), label, null, errors);
        var members = entry["servers"] is { } serversNode ? r.StringList(serversNode, $"{path}.servers") : null;
        if (!entry.ContainsKey("servers"))
        {
            errors.Add(($"{path}.servers", $"{label} needs a 'servers' list of server ids"));
        }
        else if (members is { Count: 0 })
        {
            errors.Add(($"{path}.servers", $"{label}: 'servers' is empty"));
        }
        else if (members is not null)
        {
            foreach (var dup in members.GroupBy(m => m, StringComparer.Ordinal).Where(g => g.Count() > 1))
            {
                errors.Add(($"{path}.servers", $"{label} lists '{Printable(dup.Key)}' more than once"));
            }
        }
        var separator = "__";
        if (entry["separator"] is { } sepNode && r.PlainString(sepNode, $"{path}.separator") is { } sep)
        {
            if (!SeparatorShape().IsMatch(sep))
            {
                errors.Add(($"{path}.separator", $"{label}: separator '{Printable(sep)}' must be 1 to 16 letters, digits, '_', '.' or '-'"));
            }
            else
            {
                separator = sep;
            }
        }
        if (entry["description"] is { } descriptionNode)
        {
            r.Text(descriptionNode, $"{path}.description");
        }
        foreach (var (field, _) in entry.Where(p => p.Key is not ("servers" or "separator" or "description")))
        {
            warnings.Add($"MCP servers file {fileName}: {label} has an unknown field '{field}', which is ignored");
        }
        if (errors.Count > before || members is null)
        {
            return null;
        }
        return new McpVirtualServer { Name = name, Servers = members, Separator = separator, File = fileName };
    }

    // Unknown fields are warnings, but one whose name says it holds a secret is refused: it may be a misspelt credential field.
    private static bool LooksLikeCredentialField(string field)
    {
        var f = field.ToLowerInvariant();
        return f.EndsWith("key", StringComparison.Ordinal) || f.EndsWith("secret", StringComparison.Ordinal) || f.EndsWith("token", StringComparison.Ordinal)
            || f.Contains("password", StringComparison.Ordinal) || f.Contains("credential", StringComparison.Ordinal);
    }

    /// <summary>Child environment variables whose values are credentials (<c>GITHUB_TOKEN</c>, <c>OPENAI_API_KEY</c>, <c>DB_PASSWORD</c>).</summary>
    public static bool LooksLikeCredentialVariable(string variable)
    {
        foreach (var part in variable.ToUpperInvariant().Split('_', StringSplitOptions.RemoveEmptyEntries))
        {
            if (part is "KEY" or "APIKEY" or "TOKEN" or "SECRET" or "PASSWORD" or "PASSWD" or "PASS" or "PAT" or "CREDENTIAL" or "CREDENTIALS" or "AUTH"
                || part.EndsWith("TOKEN", StringComparison.Ordinal) || part.EndsWith("SECRET", StringComparison.Ordinal) || part.EndsWith("PASSWORD", StringComparison.Ordinal))
            {
                return true;
            }
        }
        return false;
    }

    private static bool IsHeaderName(string name) => name.Length > 0 && name.AsSpan().IndexOfAnyExceptInRange('!', '~') < 0 && !name.Contains(':');

    private static bool IsHeaderSafe(string value) => value.AsSpan().IndexOfAnyExceptInRange('\u0020', '\u007e') < 0;

    internal static string Printable(string? value)
    {
        value ??= "";
        var s = value.Length > 100 ? value[..100] + "…" : value;
        return string.Concat(s.Select(c => char.IsControl(c) ? '?' : c));
    }

    /// <summary>Reads values of one entry, adding errors with their path; credentials only as whole references.</summary>
    private sealed class Reader(Context context, string label, List<string>? secretFiles, List<(string, string)> errors)
    {
        public string? Secret(JsonNode node, string at)
        {
            var problems = new List<string>();
            return Report(SecretReferences.ReadSecret(node, context.Environment, secretFiles, problems), problems, at);
        }

        /// <summary>A plain setting: a string (or a bare number or flag), in which <c>${NAME}</c> references are resolved.</summary>
        public string? Text(JsonNode node, string at)
        {
            var problems = new List<string>();
            return Report(SecretReferences.ReadText(node, context.Environment, problems), problems, at);
        }

        private string? Report(string? value, List<string> problems, string at)
        {
            foreach (var problem in problems)
            {
                errors.Add((at, $"{label}: {problem}"));
            }
            return value;
        }

        public string? PlainString(JsonNode node, string at)
        {
            if (node is JsonValue v && v.GetValueKind() == JsonValueKind.String && v.GetValue<string>().Trim() is { Length: > 0 } s)
            {
                return s;
            }
            errors.Add((at, $"{label}: must be a non-empty string"));
            return null;
        }

        public List<string>? StringList(JsonNode node, string at)
        {
            if (node is JsonArray a && a.All(x => x is JsonValue v && v.GetValueKind() == JsonValueKind.String))
            {
                return a.Select(x => x!.GetValue<string>()).ToList();
            }
            errors.Add((at, $"{label}: must be a list of strings"));
            return null;
        }

        public List<string>? TextList(JsonNode node, string at)
        {
            if (node is not JsonArray a)
            {
                errors.Add((at, $"{label}: must be a list of strings"));
                return null;
            }
            var result = new List<string>(a.Count);
            for (var i = 0; i < a.Count; i++)
            {
                if (a[i] is null || Text(a[i]!, $"{at}[{i}]") is not { } s)
                {
                    if (a[i] is null)
                    {
                        errors.Add(($"{at}[{i}]", $"{label}: must be a string"));
                    }
                    return null;
                }
                result.Add(s);
            }
            return result;
        }

        public int? Int(JsonNode? node, string at, int min, int max)
        {
            if (node is JsonValue v && v.GetValueKind() == JsonValueKind.Number && v.TryGetValue<long>(out var n) && n >= min && n <= max)
            {
                return (int)n;
            }
            if (node is JsonValue d && d.GetValueKind() == JsonValueKind.Number && d.TryGetValue<double>(out var f) && f == Math.Floor(f) && f >= min && f <= max)
            {
                return (int)f;
            }
            errors.Add((at, $"{label}: must be a whole number from {min} to {max}"));
            return null;
        }
    }
}
