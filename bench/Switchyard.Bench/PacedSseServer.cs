using System.Net;
using System.Net.Sockets;
using System.Runtime.InteropServices;
using System.Text;

namespace Switchyard.Bench;

/// <summary>
/// A paced SSE upstream, used when the repository simulator cannot be built: any POST gets the events of
/// the SSE fixture, the first one at once and then one every <c>--interval-ms</c>, each in its own chunk and
/// its own write. GET /health answers 200. HTTP/1.1 keep-alive, 127.0.0.1 only.
/// </summary>
internal static class PacedSseServer
{
    public static async Task<int> RunAsync(CommandLine options)
    {
        var port = options.Int("port", 18182);
        var interval = TimeSpan.FromMilliseconds(options.Int("interval-ms", 5));
        var ssePath = options.Optional("sse");
        var text = ssePath is null ? DefaultStream : await File.ReadAllTextAsync(ssePath).ConfigureAwait(false);
        var events = text.Split("\n\n", StringSplitOptions.RemoveEmptyEntries)
            .Select(e => Chunk(Encoding.UTF8.GetBytes(e + "\n\n")))
            .ToArray();

        using var stop = new CancellationTokenSource();
        using var sigterm = PosixSignalRegistration.Create(PosixSignal.SIGTERM, c => { c.Cancel = true; stop.Cancel(); });
        using var sigint = PosixSignalRegistration.Create(PosixSignal.SIGINT, c => { c.Cancel = true; stop.Cancel(); });

        using var listener = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        listener.SetSocketOption(SocketOptionLevel.Socket, SocketOptionName.ReuseAddress, true);
        listener.Bind(new IPEndPoint(IPAddress.Loopback, port));
        listener.Listen(1024);
        Console.WriteLine($"paced SSE upstream on http://127.0.0.1:{port}, {events.Length} events, one every {interval.TotalMilliseconds} ms");
        try
        {
            while (!stop.IsCancellationRequested)
            {
                var socket = await listener.AcceptAsync(stop.Token).ConfigureAwait(false);
                socket.NoDelay = true;
                _ = Task.Run(() => ServeAsync(socket, events, interval, stop.Token));
            }
        }
        catch (OperationCanceledException)
        {
        }

        return 0;
    }

    private const string DefaultStream = "data: {\"choices\":[{\"index\":0,\"delta\":{\"content\":\"hi\"}}]}\n\ndata: [DONE]\n\n";

    private static byte[] Chunk(byte[] payload)
    {
        var head = Encoding.ASCII.GetBytes(payload.Length.ToString("x", System.Globalization.CultureInfo.InvariantCulture) + "\r\n");
        return [.. head, .. payload, (byte)'\r', (byte)'\n'];
    }

    private static async Task ServeAsync(Socket socket, byte[][] events, TimeSpan interval, CancellationToken ct)
    {
        var buffer = new byte[64 * 1024];
        var filled = 0;
        try
        {
            using (socket)
            {
                while (!ct.IsCancellationRequested)
                {
                    // Read one request: headers up to the blank line, then Content-Length bytes of body.
                    int headerEnd;
                    while ((headerEnd = IndexOf(buffer.AsSpan(0, filled), "\r\n\r\n"u8)) < 0)
                    {
                        if (filled == buffer.Length)
                        {
                            return;
                        }

                        var n = await socket.ReceiveAsync(buffer.AsMemory(filled), ct).ConfigureAwait(false);
                        if (n == 0)
                        {
                            return;
                        }

                        filled += n;
                    }

                    var head = Encoding.ASCII.GetString(buffer, 0, headerEnd);
                    var contentLength = 0;
                    foreach (var line in head.Split("\r\n"))
                    {
                        if (line.StartsWith("content-length:", StringComparison.OrdinalIgnoreCase))
                        {
                            contentLength = int.Parse(line.AsSpan(15).Trim(), System.Globalization.CultureInfo.InvariantCulture);
                        }
                    }

                    var total = headerEnd + 4 + contentLength;
                    if (total > buffer.Length)
                    {
                        return;
                    }

                    while (filled < total)
                    {
                        var n = await socket.ReceiveAsync(buffer.AsMemory(filled), ct).ConfigureAwait(false);
                        if (n == 0)
                        {
                            return;
                        }

                        filled += n;
                    }

                    Buffer.BlockCopy(buffer, total, buffer, 0, filled - total);
                    filled -= total;

                    if (head.StartsWith("GET ", StringComparison.Ordinal))
                    {
                        await socket.SendAsync("HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 2\r\n\r\nok"u8.ToArray(), ct).ConfigureAwait(false);
                        continue;
                    }

                    await socket.SendAsync("HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nCache-Control: no-cache\r\nTransfer-Encoding: chunked\r\n\r\n"u8.ToArray(), ct).ConfigureAwait(false);
                    for (var i = 0; i < events.Length; i++)
                    {
                        if (i > 0)
                        {
                            await Task.Delay(interval, ct).ConfigureAwait(false);
                        }

                        await socket.SendAsync(events[i], ct).ConfigureAwait(false);
                    }

                    await socket.SendAsync("0\r\n\r\n"u8.ToArray(), ct).ConfigureAwait(false);
                }
            }
        }
        catch (Exception ex) when (ex is SocketException or OperationCanceledException or FormatException)
        {
            // Peer went away or the server is stopping.
        }
    }

    private static int IndexOf(ReadOnlySpan<byte> haystack, ReadOnlySpan<byte> needle) => haystack.IndexOf(needle);
}
