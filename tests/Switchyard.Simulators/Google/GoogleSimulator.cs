using System.Collections.Concurrent;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;

namespace Switchyard.Simulators.Google;

/// <summary>
/// A fake Google upstream on a loopback port: Gemini on AI Studio (<c>/v1beta/models/{m}:generateContent</c>,
/// <c>:streamGenerateContent</c>, API key) and on Vertex AI (<c>…/v1/projects/{p}/locations/{r}/publishers/google/models/{m}:…</c>,
/// bearer token), an OAuth token endpoint (<c>POST /token</c>, JWT-bearer grant verified against registered service
/// account keys) and a GCE metadata server token endpoint. Records every request; replies can be scripted.
/// </summary>
public sealed partial class GoogleSimulator : IAsyncDisposable
{
    /// <summary>The audience Google's token endpoint requires in a JWT-bearer assertion.</summary>
    public const string GoogleTokenAudience = "https://oauth2.googleapis.com/token";

    public const string DefaultApiKey = "AIza-sim-key-0123456789";

    private readonly WebApplication _app;
    private readonly RequestLog _log = new();
    private readonly ConcurrentQueue<GeminiReply> _replies = new();
    private readonly ConcurrentDictionary<string, RSA> _serviceAccounts = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, byte> _issued = new(StringComparer.Ordinal);
    private readonly StreamStepper _stepper = new();
    private int _tokensMinted;
    private int _metadataTokens;
    private int _responses;

    private GoogleSimulator(WebApplication app) => _app = app;

    public int Port { get; private set; }

    /// <summary><c>http://127.0.0.1:{port}</c>.</summary>
    public string BaseUrl => $"http://127.0.0.1:{Port}";

    /// <summary>The OAuth token endpoint, for a service account key's <c>token_uri</c>.</summary>
    public string TokenUri => BaseUrl + "/token";

    /// <summary>host:port of the metadata server, for <c>GCE_METADATA_HOST</c>.</summary>
    public string MetadataHost => $"127.0.0.1:{Port}";

    /// <summary>The AI Studio key the Gemini routes accept.</summary>
    public string ApiKey { get; set; } = DefaultApiKey;

    /// <summary>Access tokens minted at <c>/token</c>.</summary>
    public int TokensMinted => Volatile.Read(ref _tokensMinted);

    /// <summary>The claims of the last JWT assertion that was accepted.</summary>
    public JsonObject? LastAssertionClaims { get; private set; }

    /// <summary>Tokens handed out by the metadata server.</summary>
    public int MetadataTokensIssued => Volatile.Read(ref _metadataTokens);

    /// <summary><c>expires_in</c> of metadata-server tokens (the real server hands out tokens with under an hour left).</summary>
    public int MetadataTokenLifetimeSeconds { get; set; } = 3599;

    public IReadOnlyList<RecordedRequest> Requests => _log.Snapshot();

    /// <summary>Requests to the Gemini routes only (not the token endpoints).</summary>
    public IReadOnlyList<RecordedRequest> ModelRequests => [.. _log.Snapshot().Where(r => r.Path.Contains(":generateContent", StringComparison.Ordinal) || r.Path.Contains(":streamGenerateContent", StringComparison.Ordinal))];

    /// <summary>Scripts the next Gemini answer.</summary>
    public void Enqueue(GeminiReply reply) => _replies.Enqueue(reply);

    /// <summary>When true, each streamGenerateContent event after the first waits for <see cref="ReleaseNextEvent"/>.</summary>
    public bool StepMode
    {
        get => _stepper.StepMode;
        set => _stepper.StepMode = value;
    }

    /// <summary>In step mode, lets the waiting stream write its next event.</summary>
    public void ReleaseNextEvent() => _stepper.ReleaseNext();

    /// <summary>Completes once the most recently started stream has flushed at least <paramref name="count"/> events.</summary>
    public Task WaitForEventsSentAsync(int count, TimeSpan timeout) => _stepper.WaitForEventsAsync(count, timeout);

    /// <summary>Lets Vertex routes accept <paramref name="token"/> (as if it had been issued elsewhere, e.g. by gcloud).</summary>
    public void AcceptToken(string token) => _issued[token] = 0;

    /// <summary>Registers a service account's public key for the JWT-bearer grant.</summary>
    public void RegisterServiceAccount(string clientEmail, RSA publicKey) => _serviceAccounts[clientEmail] = publicKey;

    public static async Task<GoogleSimulator> StartAsync()
    {
        var app = LoopbackApp.Build(typeof(GoogleSimulator).Assembly.GetName().Name!);
        var sim = new GoogleSimulator(app);
        app.Run(sim.HandleAsync);
        await app.StartAsync().ConfigureAwait(false);
        sim.Port = LoopbackApp.Port(app);
        return sim;
    }

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync().ConfigureAwait(false);
        await _app.DisposeAsync().ConfigureAwait(false);
    }

    [GeneratedRegex("^(?<prefix>.*)/v1beta/models/(?<model>[^/:]+):(?<method>generateContent|streamGenerateContent)$")]
    private static partial Regex StudioRoute();

    [GeneratedRegex("^(?<prefix>.*)/v1/projects/(?<project>[^/]+)/locations/(?<region>[^/]+)/publishers/google/models/(?<model>[^/:]+):(?<method>generateContent|streamGenerateContent)$")]
    private static partial Regex VertexRoute();

    private async Task HandleAsync(HttpContext context)
    {
        var request = context.Request;
        using var buffer = new MemoryStream();
        await request.Body.CopyToAsync(buffer, context.RequestAborted).ConfigureAwait(false);
        var body = buffer.ToArray();
        var recorded = _log.Add(request, body, DateTimeOffset.UtcNow);
        context.Items[typeof(RecordedRequest)] = recorded;
        var completed = false;
        try
        {
            var path = request.Path.Value ?? "/";
            if (path == "/token" && request.Method == "POST")
            {
                await TokenAsync(context, body).ConfigureAwait(false);
            }
            else if (path == "/computeMetadata/v1/instance/service-accounts/default/token" && request.Method == "GET")
            {
                await MetadataAsync(context).ConfigureAwait(false);
            }
            else if (request.Method == "POST" && VertexRoute().Match(path) is { Success: true } vertex)
            {
                var bearer = request.Headers.Authorization.ToString();
                var token = bearer.StartsWith("Bearer ", StringComparison.Ordinal) ? bearer[7..] : "";
                if (!_issued.ContainsKey(token))
                {
                    await ErrorAsync(context, 401, "Request had invalid authentication credentials. Expected OAuth 2 access token, login cookie or other valid authentication credential. See https://developers.google.com/identity/sign-in/web/devconsole-project.", "UNAUTHENTICATED").ConfigureAwait(false);
                }
                else
                {
                    await GenerateAsync(context, body, vertex.Groups["model"].Value, vertex.Groups["method"].Value == "streamGenerateContent").ConfigureAwait(false);
                }
            }
            else if (request.Method == "POST" && StudioRoute().Match(path) is { Success: true } studio)
            {
                var key = request.Headers["x-goog-api-key"].ToString();
                if (key.Length == 0)
                {
                    key = request.Query["key"].ToString();
                }
                if (key.Length == 0)
                {
                    await ErrorAsync(context, 403, "Method doesn't allow unregistered callers (callers without established identity). Please use API Key or other form of API consumer identity to call this API.", "PERMISSION_DENIED").ConfigureAwait(false);
                }
                else if (key != ApiKey)
                {
                    await ErrorAsync(context, 400, "API key not valid. Please pass a valid API key.", "INVALID_ARGUMENT").ConfigureAwait(false);
                }
                else
                {
                    await GenerateAsync(context, body, studio.Groups["model"].Value, studio.Groups["method"].Value == "streamGenerateContent").ConfigureAwait(false);
                }
            }
            else
            {
                await ErrorAsync(context, 404, $"Method not found: {request.Method} {path}", "NOT_FOUND").ConfigureAwait(false);
            }
            recorded.SetStatus(context.Response.StatusCode);
            completed = true;
        }
        catch (Exception ex) when (ex is OperationCanceledException or IOException)
        {
            context.Abort();
        }
        finally
        {
            recorded.Finish(aborted: !completed);
        }
    }

    private static async Task ErrorAsync(HttpContext context, int status, string message, string statusName)
    {
        context.Response.StatusCode = status;
        context.Response.ContentType = "application/json; charset=UTF-8";
        var body = new JsonObject { ["error"] = new JsonObject { ["code"] = status, ["message"] = message, ["status"] = statusName } };
        await context.Response.WriteAsync(body.ToJsonString(), context.RequestAborted).ConfigureAwait(false);
    }

    private static string StatusName(int status) => status switch
    {
        400 => "INVALID_ARGUMENT",
        401 => "UNAUTHENTICATED",
        403 => "PERMISSION_DENIED",
        404 => "NOT_FOUND",
        429 => "RESOURCE_EXHAUSTED",
        500 => "INTERNAL",
        503 => "UNAVAILABLE",
        504 => "DEADLINE_EXCEEDED",
        _ => "UNKNOWN",
    };

    private async Task GenerateAsync(HttpContext context, byte[] raw, string model, bool stream)
    {
        JsonObject body;
        try
        {
            body = JsonNode.Parse(raw) as JsonObject ?? throw new JsonException("not an object");
        }
        catch (JsonException)
        {
            await ErrorAsync(context, 400, "Invalid JSON payload received. Unexpected token.", "INVALID_ARGUMENT").ConfigureAwait(false);
            return;
        }
        try
        {
            GeminiValidator.Validate(body);
        }
        catch (GeminiRejection ex)
        {
            await ErrorAsync(context, ex.Status, ex.Message, ex.StatusName).ConfigureAwait(false);
            return;
        }
        _replies.TryDequeue(out var reply);
        if (reply?.RawBody is { } rawAnswer)
        {
            context.Response.ContentType = reply.RawContentType;
            await context.Response.WriteAsync(rawAnswer, context.RequestAborted).ConfigureAwait(false);
            return;
        }
        if (reply?.ErrorStatus is { } status)
        {
            await ErrorAsync(context, status, reply.ErrorMessage ?? $"Simulated error {status}", StatusName(status)).ConfigureAwait(false);
            return;
        }
        var plan = GeminiAnswer.Plan(body, reply ?? new GeminiReply(), model, "sim-" + Interlocked.Increment(ref _responses));
        if (!stream)
        {
            context.Response.ContentType = "application/json; charset=UTF-8";
            await context.Response.WriteAsync(plan.Whole().ToJsonString(), context.RequestAborted).ConfigureAwait(false);
            return;
        }
        var sse = context.Request.Query["alt"] == "sse";
        context.Response.ContentType = sse ? "text/event-stream" : "application/json; charset=UTF-8";
        var events = plan.Events();
        var progress = _stepper.BeginStream();
        var recorded = context.Items[typeof(RecordedRequest)] as RecordedRequest;
        for (var i = 0; i < events.Count; i++)
        {
            if (i > 0)
            {
                await _stepper.WaitTurnAsync(context.RequestAborted).ConfigureAwait(false);
            }
            var json = events[i].ToJsonString();
            var text = sse ? "data: " + json + "\r\n\r\n" : (i == 0 ? "[" : "\r\n,") + json;
            await context.Response.WriteAsync(text, context.RequestAborted).ConfigureAwait(false);
            await context.Response.Body.FlushAsync(context.RequestAborted).ConfigureAwait(false);
            context.RequestAborted.ThrowIfCancellationRequested();
            recorded?.CountEvent();
            progress.CountEvent();
        }
        if (!sse)
        {
            await context.Response.WriteAsync("]", context.RequestAborted).ConfigureAwait(false);
        }
    }

    private async Task MetadataAsync(HttpContext context)
    {
        if (context.Request.Headers["Metadata-Flavor"] != "Google")
        {
            context.Response.StatusCode = 403;
            context.Response.ContentType = "text/html; charset=UTF-8";
            await context.Response.WriteAsync("Missing Metadata-Flavor:Google header.", context.RequestAborted).ConfigureAwait(false);
            return;
        }
        var token = "ya29.metadata-" + Interlocked.Increment(ref _metadataTokens);
        _issued[token] = 0;
        context.Response.ContentType = "application/json";
        await context.Response.WriteAsync(new JsonObject { ["access_token"] = token, ["expires_in"] = MetadataTokenLifetimeSeconds, ["token_type"] = "Bearer" }.ToJsonString(), context.RequestAborted).ConfigureAwait(false);
    }

    /// <summary>The JWT-bearer grant (RFC 7523) as Google's token endpoint serves it.</summary>
    private async Task TokenAsync(HttpContext context, byte[] raw)
    {
        var form = QueryHelpers(Encoding.UTF8.GetString(raw));
        async Task Fail(string error, string description)
        {
            context.Response.StatusCode = 400;
            context.Response.ContentType = "application/json";
            await context.Response.WriteAsync(new JsonObject { ["error"] = error, ["error_description"] = description }.ToJsonString(), context.RequestAborted).ConfigureAwait(false);
        }
        if (form.GetValueOrDefault("grant_type") != "urn:ietf:params:oauth:grant-type:jwt-bearer")
        {
            await Fail("unsupported_grant_type", "Invalid grant_type: " + form.GetValueOrDefault("grant_type")).ConfigureAwait(false);
            return;
        }
        var assertion = form.GetValueOrDefault("assertion") ?? "";
        var pieces = assertion.Split('.');
        if (pieces.Length != 3)
        {
            await Fail("invalid_request", "Invalid JWT: Token must be a short-lived token and in a reasonable timeframe").ConfigureAwait(false);
            return;
        }
        JsonObject header, claims;
        try
        {
            header = JsonNode.Parse(Base64Url(pieces[0])) as JsonObject ?? throw new JsonException();
            claims = JsonNode.Parse(Base64Url(pieces[1])) as JsonObject ?? throw new JsonException();
        }
        catch (Exception ex) when (ex is JsonException or FormatException)
        {
            await Fail("invalid_request", "Invalid JWT: malformed").ConfigureAwait(false);
            return;
        }
        var issuer = GeminiValidator.Str(claims["iss"]) ?? "";
        if (GeminiValidator.Str(header["alg"]) != "RS256" || !_serviceAccounts.TryGetValue(issuer, out var key))
        {
            await Fail("invalid_grant", "Invalid grant: account not found").ConfigureAwait(false);
            return;
        }
        var signed = Encoding.ASCII.GetBytes(pieces[0] + "." + pieces[1]);
        if (!key.VerifyData(signed, Base64Url(pieces[2]), HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1))
        {
            await Fail("invalid_grant", "Invalid JWT Signature.").ConfigureAwait(false);
            return;
        }
        var now = DateTimeOffset.UtcNow.ToUnixTimeSeconds();
        var exp = claims["exp"]?.GetValue<long>() ?? 0;
        var iat = claims["iat"]?.GetValue<long>() ?? 0;
        // Google's endpoint wants its own URL as the audience; the simulator also takes its own address.
        var audience = GeminiValidator.Str(claims["aud"]);
        if (audience != GoogleTokenAudience && audience != TokenUri)
        {
            await Fail("invalid_grant", $"Invalid JWT: audience {audience} is not {GoogleTokenAudience}").ConfigureAwait(false);
            return;
        }
        if (!(GeminiValidator.Str(claims["scope"]) ?? "").Split(' ').Contains("https://www.googleapis.com/auth/cloud-platform"))
        {
            await Fail("invalid_scope", "Invalid OAuth scope or ID token audience provided.").ConfigureAwait(false);
            return;
        }
        if (exp <= now || iat > now + 300 || exp - iat > 3600)
        {
            await Fail("invalid_grant", "Invalid JWT: Token must be a short-lived token (60 minutes) and in a reasonable timeframe. Check your iat and exp values in the JWT claim.").ConfigureAwait(false);
            return;
        }
        LastAssertionClaims = claims;
        var token = "ya29.sim-" + Interlocked.Increment(ref _tokensMinted);
        _issued[token] = 0;
        context.Response.ContentType = "application/json; charset=utf-8";
        await context.Response.WriteAsync(new JsonObject { ["access_token"] = token, ["expires_in"] = 3599, ["token_type"] = "Bearer" }.ToJsonString(), context.RequestAborted).ConfigureAwait(false);
    }

    private static Dictionary<string, string> QueryHelpers(string form)
    {
        var result = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var pair in form.Split('&', StringSplitOptions.RemoveEmptyEntries))
        {
            var eq = pair.IndexOf('=');
            var name = Uri.UnescapeDataString((eq < 0 ? pair : pair[..eq]).Replace('+', ' '));
            result[name] = eq < 0 ? "" : Uri.UnescapeDataString(pair[(eq + 1)..].Replace('+', ' '));
        }
        return result;
    }

    private static byte[] Base64Url(string s)
    {
        var padded = s.Replace('-', '+').Replace('_', '/');
        padded += new string('=', (4 - (padded.Length % 4)) % 4);
        return Convert.FromBase64String(padded);
    }
}
