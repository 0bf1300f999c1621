using System.Collections.Concurrent;
using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Switchyard.Simulators;

namespace Switchyard.Tests.Logs.Stores;

/// <summary>
/// The part of the GCS JSON API that Google.Cloud.Storage.V1 uses to write and read one object, on 127.0.0.1: resumable,
/// multipart and media uploads (<c>POST /upload/storage/v1/b/{bucket}/o</c>, then <c>PUT</c> to the session URI) and
/// downloads (<c>GET /storage/v1/b/{bucket}/o/{object}?alt=media</c>). It refuses what GCS refuses: no bearer token or one
/// the metadata server did not issue (401), an unknown bucket (404), a missing object (404), an unknown upload session
/// (404), and it reports MD5 and CRC32C the way GCS does, so the client's upload validation runs for real.
/// </summary>
public sealed class FakeGcsServer : IAsyncDisposable
{
    private readonly WebApplication _app;
    private readonly Func<string, bool> _validToken;
    private readonly ConcurrentDictionary<string, byte> _buckets = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<(string Bucket, string Name), StoredObject> _objects = new();
    private readonly ConcurrentDictionary<string, (string Bucket, string Name, string ContentType)> _sessions = new(StringComparer.Ordinal);
    private readonly ConcurrentQueue<(string Method, string Target, string? Authorization, int Status)> _requests = new();
    private long _generation = 1_700_000_000_000_000;

    private sealed record StoredObject(byte[] Content, string ContentType, long Generation);

    private FakeGcsServer(WebApplication app, Func<string, bool> validToken)
    {
        _app = app;
        _validToken = validToken;
    }

    /// <summary>The API root, the form <c>LOG_STORE_ENDPOINT</c> takes (the client adds <c>storage/v1/</c> and <c>upload/storage/v1/</c>).</summary>
    public Uri Endpoint { get; private set; } = null!;

    /// <summary>Every request answered: method, raw target, Authorization header, status.</summary>
    public IReadOnlyList<(string Method, string Target, string? Authorization, int Status)> Requests => _requests.ToArray();

    /// <summary>Hashes sent with uploads (<c>x-goog-hash</c>) and checked against the body.</summary>
    public int HashesChecked => Volatile.Read(ref _hashesChecked);

    private int _hashesChecked;

    /// <summary>The stored bytes of an object, or null.</summary>
    public byte[]? Object(string bucket, string name) => _objects.TryGetValue((bucket, name), out var o) ? o.Content : null;

    /// <summary>The content type an object was stored with, or null.</summary>
    public string? ContentType(string bucket, string name) => _objects.TryGetValue((bucket, name), out var o) ? o.ContentType : null;

    public static async Task<FakeGcsServer> StartAsync(Func<string, bool> validToken, params string[] buckets)
    {
        var app = LoopbackApp.Build("fake-gcs");
        var server = new FakeGcsServer(app, validToken);
        foreach (var bucket in buckets)
        {
            server._buckets[bucket] = 0;
        }
        app.Run(server.HandleAsync);
        await app.StartAsync();
        server.Endpoint = new Uri($"http://127.0.0.1:{LoopbackApp.Port(app)}/");
        return server;
    }

    private async Task HandleAsync(HttpContext context)
    {
        var target = context.Features.Get<IHttpRequestFeature>()!.RawTarget;
        var status = await RouteAsync(context, target);
        if (!context.Response.HasStarted)
        {
            context.Response.StatusCode = status;
        }
        _requests.Enqueue((context.Request.Method, target, context.Request.Headers.Authorization.FirstOrDefault(), status));
    }

    private async Task<int> RouteAsync(HttpContext context, string target)
    {
        var request = context.Request;
        var rawPath = target.Split('?')[0];
        var segments = rawPath.Split('/', StringSplitOptions.RemoveEmptyEntries);
        var body = new MemoryStream();
        await request.Body.CopyToAsync(body);

        // The session URI of a resumable upload authorises the upload by itself (it is the capability GCS hands out).
        if (request.Method == "PUT" && request.Query["upload_id"].FirstOrDefault() is { } uploadId)
        {
            if (!_sessions.TryRemove(uploadId, out var session))
            {
                return await ErrorAsync(context, 404, "No such upload session.", "notFound");
            }
            // The client sends the body's hashes with the upload (x-goog-hash: crc32c=…,md5=…); GCS refuses a body
            // that does not match them, so a record corrupted on the way is never stored.
            foreach (var hash in request.Headers["x-goog-hash"].SelectMany(v => (v ?? "").Split(',', StringSplitOptions.TrimEntries)))
            {
                Interlocked.Increment(ref _hashesChecked);
                var expected = hash.StartsWith("crc32c=", StringComparison.Ordinal) ? Crc32CBase64(body.ToArray())
                    : hash.StartsWith("md5=", StringComparison.Ordinal) ? Md5Base64(body.ToArray()) : null;
                if (expected is not null && hash[(hash.IndexOf('=') + 1)..] != expected)
                {
                    return await ErrorAsync(context, 400, "Provided CRC32C or MD5 does not match the object's data.", "invalid");
                }
            }
            return await StoreAsync(context, session.Bucket, session.Name, session.ContentType, body.ToArray());
        }

        var auth = request.Headers.Authorization.FirstOrDefault();
        if (auth is null || !auth.StartsWith("Bearer ", StringComparison.Ordinal))
        {
            return await ErrorAsync(context, 401, "Anonymous caller does not have storage.objects access to the Google Cloud Storage bucket. Permission denied.", "required");
        }
        if (!_validToken(auth["Bearer ".Length..]))
        {
            context.Response.Headers.WWWAuthenticate = "Bearer realm=\"https://accounts.google.com/\", error=\"invalid_token\"";
            return await ErrorAsync(context, 401, "Invalid Credentials", "authError");
        }

        // POST /upload/storage/v1/b/{bucket}/o?uploadType=…
        if (request.Method == "POST" && segments is ["upload", "storage", "v1", "b", var ub, "o"])
        {
            var bucket = Uri.UnescapeDataString(ub);
            if (!_buckets.ContainsKey(bucket))
            {
                return await ErrorAsync(context, 404, "The specified bucket does not exist.", "notFound");
            }
            return request.Query["uploadType"].FirstOrDefault() switch
            {
                "resumable" => await StartSessionAsync(context, bucket, body.ToArray()),
                "media" when request.Query["name"].FirstOrDefault() is { Length: > 0 } name =>
                    await StoreAsync(context, bucket, name, request.ContentType ?? "application/octet-stream", body.ToArray()),
                "multipart" => await MultipartAsync(context, bucket, body.ToArray()),
                var other => await ErrorAsync(context, 400, $"Invalid upload type: {other}", "invalid"),
            };
        }

        // GET /storage/v1/b/{bucket}/o/{object}[?alt=media]
        if (request.Method == "GET" && segments is ["storage", "v1", "b", var gb, "o", var go])
        {
            var bucket = Uri.UnescapeDataString(gb);
            var name = Uri.UnescapeDataString(go);
            if (!_buckets.ContainsKey(bucket))
            {
                return await ErrorAsync(context, 404, "The specified bucket does not exist.", "notFound");
            }
            if (!_objects.TryGetValue((bucket, name), out var stored))
            {
                return await ErrorAsync(context, 404, $"No such object: {bucket}/{name}", "notFound");
            }
            if (request.Query["alt"] == "media")
            {
                context.Response.StatusCode = 200;
                context.Response.ContentType = stored.ContentType;
                context.Response.Headers["x-goog-hash"] = $"crc32c={Crc32CBase64(stored.Content)},md5={Md5Base64(stored.Content)}";
                context.Response.Headers["x-goog-generation"] = stored.Generation.ToString(CultureInfo.InvariantCulture);
                await context.Response.Body.WriteAsync(stored.Content);
                return 200;
            }
            return await JsonAsync(context, 200, Resource(bucket, name, stored));
        }
        return await ErrorAsync(context, 404, "Not Found", "notFound");
    }

    private async Task<int> StartSessionAsync(HttpContext context, string bucket, byte[] metadata)
    {
        var json = metadata.Length == 0 ? null : JsonNode.Parse(metadata);
        var name = json?["name"]?.GetValue<string>() ?? context.Request.Query["name"].FirstOrDefault();
        if (string.IsNullOrEmpty(name))
        {
            return await ErrorAsync(context, 400, "Required", "required");
        }
        var contentType = json?["contentType"]?.GetValue<string>() ?? context.Request.Headers["X-Upload-Content-Type"].FirstOrDefault() ?? "application/octet-stream";
        var id = Guid.NewGuid().ToString("N");
        _sessions[id] = (bucket, name, contentType);
        context.Response.Headers.Location = $"{Endpoint}upload/storage/v1/b/{Uri.EscapeDataString(bucket)}/o?uploadType=resumable&upload_id={id}";
        return 200;
    }

    private async Task<int> MultipartAsync(HttpContext context, string bucket, byte[] body)
    {
        // multipart/related: part 1 JSON metadata, part 2 the media.
        var boundary = context.Request.ContentType?.Split("boundary=", 2) is [_, var b] ? b.Trim('"') : null;
        if (boundary is null)
        {
            return await ErrorAsync(context, 400, "Missing multipart boundary.", "invalid");
        }
        var text = Encoding.Latin1.GetString(body);
        var parts = text.Split("--" + boundary).Select(p => p.Trim('\r', '\n')).Where(p => p.Length > 0 && p != "--").ToArray();
        if (parts.Length < 2)
        {
            return await ErrorAsync(context, 400, "Expected metadata and media parts.", "invalid");
        }
        static (string Headers, string Body) Split(string part) => part.Split("\r\n\r\n", 2) is [var h, var c] ? (h, c) : ("", part);
        var meta = JsonNode.Parse(Split(parts[0]).Body)!;
        var (mediaHeaders, media) = Split(parts[1]);
        var contentType = mediaHeaders.Split("\r\n").FirstOrDefault(h => h.StartsWith("Content-Type:", StringComparison.OrdinalIgnoreCase))?["Content-Type:".Length..].Trim()
            ?? meta["contentType"]?.GetValue<string>() ?? "application/octet-stream";
        return await StoreAsync(context, bucket, meta["name"]!.GetValue<string>(), contentType, Encoding.Latin1.GetBytes(media));
    }

    private async Task<int> StoreAsync(HttpContext context, string bucket, string name, string contentType, byte[] content)
    {
        var stored = new StoredObject(content, contentType, Interlocked.Increment(ref _generation));
        _objects[(bucket, name)] = stored;
        return await JsonAsync(context, 200, Resource(bucket, name, stored));
    }

    private static JsonObject Resource(string bucket, string name, StoredObject o) => new()
    {
        ["kind"] = "storage#object",
        ["id"] = $"{bucket}/{name}/{o.Generation}",
        ["name"] = name,
        ["bucket"] = bucket,
        ["generation"] = o.Generation.ToString(CultureInfo.InvariantCulture),
        ["metageneration"] = "1",
        ["contentType"] = o.ContentType,
        ["size"] = o.Content.Length.ToString(CultureInfo.InvariantCulture),
        ["md5Hash"] = Md5Base64(o.Content),
        ["crc32c"] = Crc32CBase64(o.Content),
        ["storageClass"] = "STANDARD",
    };

    private static async Task<int> JsonAsync(HttpContext context, int status, JsonNode json)
    {
        context.Response.StatusCode = status;
        context.Response.ContentType = "application/json; charset=UTF-8";
        await context.Response.WriteAsync(json.ToJsonString());
        return status;
    }

    private static Task<int> ErrorAsync(HttpContext context, int status, string message, string reason) =>
        JsonAsync(context, status, new JsonObject
        {
            ["error"] = new JsonObject
            {
                ["code"] = status,
                ["message"] = message,
                ["errors"] = new JsonArray(new JsonObject { ["message"] = message, ["domain"] = "global", ["reason"] = reason }),
            },
        });

    private static string Md5Base64(byte[] content) => Convert.ToBase64String(MD5.HashData(content));

    /// <summary>CRC-32C (Castagnoli), big-endian, base64: the form of GCS's <c>crc32c</c> field.</summary>
    private static string Crc32CBase64(byte[] content)
    {
        var crc = 0xFFFFFFFFu;
        foreach (var b in content)
        {
            crc ^= b;
            for (var i = 0; i < 8; i++)
            {
                crc = (crc & 1) != 0 ? (crc >> 1) ^ 0x82F63B78u : crc >> 1;
            }
        }
        crc ^= 0xFFFFFFFFu;
        return Convert.ToBase64String([(byte)(crc >> 24), (byte)(crc >> 16), (byte)(crc >> 8), (byte)crc]);
    }

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
    }
}
