using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Runtime.InteropServices;
using System.Text;

namespace Switchyard.Bench;

/// <summary>
/// The paced SSE upstream for the TTFB runs: any POST gets the events of the SSE fixture, the first one at
/// once and then one every <c>--interval-ms</c>, each in its own chunk and its own send. GET answers 200.
/// HTTP/1.1 keep-alive, 127.0.0.1 only.
/// Pacing uses one thread per connection sleeping to an absolute schedule (nanosleep), not
/// <see cref="Task.Delay(TimeSpan)"/>: .NET timers follow the kernel's coarse clock (4 ms at HZ=250), so a
/// 5 ms Task.Delay really waits 8–12 ms.
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
                new Thread(() => Serve(socket, events, interval)) { IsBackground = true, Name = "paced-sse" }.Start();
            }
        }
        catch (OperationCanceledException)
        {
        }

        return 0;
    }

    private const string DefaultStream = "data: {\"choices\":[{\"index\":0,\"delta\":{\"content\":\"hi\"}}]}\n\ndata: [DONE]\n\n";

    private static readonly byte[] StreamHead = "HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nCache-Control: no-cache\r\nTransfer-Encoding: chunked\r\n\r\n"u8.ToArray();
    private static readonly byte[] LastChunk = "0\r\n\r\n"u8.ToArray();
    private static readonly byte[] HealthReply = "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 2\r\n\r\nok"u8.ToArray();

    private static byte[] Chunk(byte[] payload)
    {
        var head = Encoding.ASCII.GetBytes(payload.Length.ToString("x", System.Globalization.CultureInfo.InvariantCulture) + "\r\n");
        return [.. head, .. payload, (byte)'\r', (byte)'\n'];
    }

    private static void Serve(Socket socket, byte[][] events, TimeSpan interval)
    {
        var buffer = new byte[64 * 1024];
        var filled = 0;
        try
        {
            using (socket)
            {
                while (true)
                {
                    // One request: headers up to the blank line, then Content-Length bytes of body.
                    int headerEnd;
                    while ((headerEnd = buffer.AsSpan(0, filled).IndexOf("\r\n\r\n"u8)) < 0)
                    {
                        if (filled == buffer.Length || (filled += socket.Receive(buffer, filled, buffer.Length - filled, SocketFlags.None)) == 0)
                        {
                            return;
                        }
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
                        var n = socket.Receive(buffer, filled, buffer.Length - filled, SocketFlags.None);
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
                        socket.Send(HealthReply);
                        continue;
                    }

                    socket.Send(StreamHead);
                    var start = Stopwatch.GetTimestamp();
                    for (var i = 0; i < events.Length; i++)
                    {
                        var wait = interval * i - Stopwatch.GetElapsedTime(start);
                        if (wait > TimeSpan.Zero)
                        {
                            Thread.Sleep(wait);
                        }

                        socket.Send(events[i]);
                    }

                    socket.Send(LastChunk);
                }
            }
        }
        catch (Exception ex) when (ex is SocketException or ObjectDisposedException or FormatException)
        {
            // The peer went away.
        }
    }
}
