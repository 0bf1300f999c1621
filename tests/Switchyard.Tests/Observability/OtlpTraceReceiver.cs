using System.Collections.Concurrent;
using System.Net;
using Google.Protobuf;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;

namespace Switchyard.Tests.Observability;

/// <summary>
/// An OTLP/HTTP trace receiver on 127.0.0.1: decodes each <c>POST /v1/traces</c> body (protobuf
/// <c>ExportTraceServiceRequest</c>) field by field with Google.Protobuf's <see cref="CodedInputStream"/> and keeps the
/// spans with their resource, scope, ids, kind, status and attributes.
/// </summary>
public sealed class OtlpTraceReceiver : IAsyncDisposable
{
    private readonly WebApplication _app;
    private readonly ConcurrentQueue<ReceivedSpan> _spans = new();
    private readonly ConcurrentQueue<IReadOnlyDictionary<string, string>> _headers = new();
    private readonly SemaphoreSlim _arrived = new(0);

    private OtlpTraceReceiver(WebApplication app)
    {
        _app = app;
    }

    /// <summary>The base URL, for <c>OTEL_EXPORTER_OTLP_ENDPOINT</c> (the exporter appends <c>/v1/traces</c>).</summary>
    public Uri BaseUrl { get; private set; } = null!;

    public IReadOnlyList<ReceivedSpan> Spans => [.. _spans];

    /// <summary>Headers of each export request, in arrival order.</summary>
    public IReadOnlyList<IReadOnlyDictionary<string, string>> RequestHeaders => [.. _headers];

    public static async Task<OtlpTraceReceiver> StartAsync()
    {
        var builder = WebApplication.CreateEmptyBuilder(new WebApplicationOptions());
        builder.WebHost.UseKestrelCore().ConfigureKestrel(k => k.Listen(IPAddress.Loopback, 0));
        var app = builder.Build();
        var receiver = new OtlpTraceReceiver(app);
        app.Run(receiver.HandleAsync);
        await app.StartAsync();
        var address = app.Services.GetRequiredService<IServer>().Features.GetRequiredFeature<IServerAddressesFeature>().Addresses.First();
        receiver.BaseUrl = new Uri(address);
        return receiver;
    }

    /// <summary>Waits (bounded) until the spans received so far satisfy <paramref name="done"/>; returns them.</summary>
    public async Task<IReadOnlyList<ReceivedSpan>> WaitForAsync(Func<IReadOnlyList<ReceivedSpan>, bool> done, TimeSpan timeout)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (true)
        {
            var spans = Spans;
            if (done(spans))
            {
                return spans;
            }
            var left = deadline - DateTime.UtcNow;
            if (left <= TimeSpan.Zero)
            {
                throw new TimeoutException($"The spans expected did not arrive within {timeout}; received: "
                    + string.Join("; ", spans.Select(s => $"{s.Name} [{s.TraceId}/{s.SpanId} <- {s.ParentSpanId}]")));
            }
            await _arrived.WaitAsync(left < TimeSpan.FromMilliseconds(200) ? left : TimeSpan.FromMilliseconds(200));
        }
    }

    private async Task HandleAsync(HttpContext context)
    {
        if (context.Request.Method != "POST" || context.Request.Path != "/v1/traces")
        {
            context.Response.StatusCode = 404;
            return;
        }
        using var body = new MemoryStream();
        await context.Request.Body.CopyToAsync(body);
        _headers.Enqueue(context.Request.Headers.ToDictionary(h => h.Key, h => h.Value.ToString(), StringComparer.OrdinalIgnoreCase));
        foreach (var span in Decode(body.ToArray()))
        {
            _spans.Enqueue(span);
        }
        _arrived.Release();
        context.Response.ContentType = "application/x-protobuf";
        context.Response.StatusCode = 200; // an empty ExportTraceServiceResponse
    }

    /// <summary>ExportTraceServiceRequest { repeated ResourceSpans resource_spans = 1; }.</summary>
    internal static List<ReceivedSpan> Decode(byte[] request)
    {
        var spans = new List<ReceivedSpan>();
        foreach (var (field, resourceSpans) in Messages(request))
        {
            if (field != 1)
            {
                continue;
            }
            // ResourceSpans { Resource resource = 1; repeated ScopeSpans scope_spans = 2; }
            var resource = new Dictionary<string, object?>();
            var scopes = new List<byte[]>();
            foreach (var (f, bytes) in Messages(resourceSpans))
            {
                if (f == 1)
                {
                    // Resource { repeated KeyValue attributes = 1; }
                    foreach (var (a, kv) in Messages(bytes))
                    {
                        if (a == 1)
                        {
                            var (key, value) = KeyValue(kv);
                            resource[key] = value;
                        }
                    }
                }
                else if (f == 2)
                {
                    scopes.Add(bytes);
                }
            }
            foreach (var scopeSpans in scopes)
            {
                // ScopeSpans { InstrumentationScope scope = 1; repeated Span spans = 2; }
                var scopeName = "";
                foreach (var (f, bytes) in Messages(scopeSpans))
                {
                    if (f == 1)
                    {
                        foreach (var (s, value) in Fields(bytes))
                        {
                            if (s == 1)
                            {
                                scopeName = ((ByteString)value!).ToStringUtf8();
                            }
                        }
                    }
                    else if (f == 2)
                    {
                        spans.Add(Span(bytes, resource, scopeName));
                    }
                }
            }
        }
        return spans;
    }

    /// <summary>Span { trace_id = 1; span_id = 2; trace_state = 3; parent_span_id = 4; name = 5; kind = 6; start = 7; end = 8; attributes = 9; status = 15; }.</summary>
    private static ReceivedSpan Span(byte[] bytes, IReadOnlyDictionary<string, object?> resource, string scope)
    {
        string traceId = "", spanId = "", parent = "", name = "", traceState = "";
        var kind = 0;
        ulong start = 0, end = 0;
        var statusCode = 0;
        var attributes = new Dictionary<string, object?>();
        foreach (var (field, value) in Fields(bytes))
        {
            switch (field)
            {
                case 1: traceId = Convert.ToHexStringLower(((ByteString)value!).ToByteArray()); break;
                case 2: spanId = Convert.ToHexStringLower(((ByteString)value!).ToByteArray()); break;
                case 3: traceState = ((ByteString)value!).ToStringUtf8(); break;
                case 4: parent = Convert.ToHexStringLower(((ByteString)value!).ToByteArray()); break;
                case 5: name = ((ByteString)value!).ToStringUtf8(); break;
                case 6: kind = (int)(ulong)value!; break;
                case 7: start = (ulong)value!; break;
                case 8: end = (ulong)value!; break;
                case 9:
                    var (key, v) = KeyValue(((ByteString)value!).ToByteArray());
                    attributes[key] = v;
                    break;
                case 15:
                    // Status { string message = 2; StatusCode code = 3; }
                    foreach (var (s, sv) in Fields(((ByteString)value!).ToByteArray()))
                    {
                        if (s == 3)
                        {
                            statusCode = (int)(ulong)sv!;
                        }
                    }
                    break;
            }
        }
        return new ReceivedSpan(traceId, spanId, parent.Length == 0 ? null : parent, name, kind, traceState, start, end, statusCode, attributes, resource, scope);
    }

    /// <summary>KeyValue { string key = 1; AnyValue value = 2; }.</summary>
    private static (string Key, object? Value) KeyValue(byte[] bytes)
    {
        var key = "";
        object? value = null;
        foreach (var (field, v) in Fields(bytes))
        {
            if (field == 1)
            {
                key = ((ByteString)v!).ToStringUtf8();
            }
            else if (field == 2)
            {
                value = AnyValue(((ByteString)v!).ToByteArray());
            }
        }
        return (key, value);
    }

    /// <summary>AnyValue { string = 1; bool = 2; int64 = 3; double = 4; ArrayValue = 5 { repeated AnyValue values = 1; } }.</summary>
    private static object? AnyValue(byte[] bytes)
    {
        foreach (var (field, v) in Fields(bytes))
        {
            switch (field)
            {
                case 1: return ((ByteString)v!).ToStringUtf8();
                case 2: return (ulong)v! != 0;
                case 3: return (long)(ulong)v!;
                case 4: return BitConverter.UInt64BitsToDouble((ulong)v!);
                case 5: return Messages(((ByteString)v!).ToByteArray()).Where(m => m.Field == 1).Select(m => AnyValue(m.Bytes)).ToArray();
            }
        }
        return null;
    }

    private static IEnumerable<(int Field, byte[] Bytes)> Messages(byte[] bytes) =>
        Fields(bytes).Where(f => f.Value is ByteString).Select(f => (f.Field, ((ByteString)f.Value!).ToByteArray()));

    /// <summary>Every field of a message: varints and fixed values as <see cref="ulong"/>, length-delimited ones as <see cref="ByteString"/>.</summary>
    private static List<(int Field, object? Value)> Fields(byte[] bytes)
    {
        var fields = new List<(int, object?)>();
        var input = new CodedInputStream(bytes);
        uint tag;
        while ((tag = input.ReadTag()) != 0)
        {
            var field = WireFormat.GetTagFieldNumber(tag);
            switch (WireFormat.GetTagWireType(tag))
            {
                case WireFormat.WireType.Varint: fields.Add((field, input.ReadUInt64())); break;
                case WireFormat.WireType.Fixed64: fields.Add((field, input.ReadFixed64())); break;
                case WireFormat.WireType.Fixed32: fields.Add((field, (ulong)input.ReadFixed32())); break;
                case WireFormat.WireType.LengthDelimited: fields.Add((field, input.ReadBytes())); break;
                default: input.SkipLastField(); break;
            }
        }
        return fields;
    }

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
        _arrived.Dispose();
    }
}

/// <summary>One span as an OTLP receiver got it. Kind: 1 internal, 2 server, 3 client. Status: 0 unset, 1 ok, 2 error.</summary>
public sealed record ReceivedSpan(string TraceId, string SpanId, string? ParentSpanId, string Name, int Kind, string TraceState,
    ulong StartUnixNano, ulong EndUnixNano, int StatusCode, IReadOnlyDictionary<string, object?> Attributes,
    IReadOnlyDictionary<string, object?> Resource, string Scope)
{
    public const int Internal = 1;
    public const int Server = 2;
    public const int Client = 3;

    public object? Attribute(string name) => Attributes.TryGetValue(name, out var v) ? v : null;
}
