using Microsoft.AspNetCore.Http;

namespace Switchyard.Simulators;

/// <summary>Puts a <see cref="SimReply"/> on the wire, applying delivery faults, stream pacing and step mode.</summary>
internal sealed class ReplyWriter(SimulatorOptions options, StreamStepper stepper)
{
    // Kestrel's flush only hands bytes to its transport pipe, and an abort discards whatever the
    // socket sender has not yet taken; this pause lets the events before a cut reach the client.
    private static readonly TimeSpan s_drainBeforeCut = TimeSpan.FromMilliseconds(50);

    /// <summary>Writes the reply; returns false when the connection ended before the reply was complete.</summary>
    public async Task<bool> WriteAsync(HttpContext context, SimReply reply, SimulatedFault? fault, RecordedRequest? recorded, CancellationToken ct)
    {
        var response = context.Response;
        response.StatusCode = reply.Status;
        recorded?.SetStatus(reply.Status);
        response.ContentType = reply.ContentType;
        response.Headers["x-request-id"] = ResponseIds.New("req_");
        response.Headers["x-simulator-name"] = options.Name;
        if (reply.Headers is not null)
        {
            foreach (var (name, value) in reply.Headers)
            {
                response.Headers[name] = value;
            }
        }

        if (reply.Events is null)
        {
            response.ContentLength = reply.Body!.Length;
        }
        else
        {
            response.Headers.CacheControl = "no-cache";
        }

        var cutAfter = fault?.Kind == FaultKind.CutStream ? fault.EventsBeforeCut : -1;
        if (cutAfter == 0)
        {
            context.Abort();
            return false;
        }

        if (fault?.Kind == FaultKind.SlowFirstByte)
        {
            await response.StartAsync(ct).ConfigureAwait(false);
            await response.Body.FlushAsync(ct).ConfigureAwait(false);
            await Task.Delay(fault.Delay, ct).ConfigureAwait(false);
        }

        return reply.Events is null
            ? await WriteBodyAsync(context, reply.Body!, cutAfter > 0, ct).ConfigureAwait(false)
            : await WriteEventsAsync(context, reply.Events, cutAfter, recorded, ct).ConfigureAwait(false);
    }

    private static async Task<bool> WriteBodyAsync(HttpContext context, byte[] body, bool cut, CancellationToken ct)
    {
        if (cut)
        {
            // A cut non-streaming reply delivers half the promised Content-Length, then drops the connection.
            await context.Response.Body.WriteAsync(body.AsMemory(0, body.Length / 2), ct).ConfigureAwait(false);
            await context.Response.Body.FlushAsync(ct).ConfigureAwait(false);
            await CutAsync(context, ct).ConfigureAwait(false);
            return false;
        }

        await context.Response.Body.WriteAsync(body, ct).ConfigureAwait(false);
        return !ct.IsCancellationRequested;
    }

    private static async Task CutAsync(HttpContext context, CancellationToken ct)
    {
        await Task.Delay(s_drainBeforeCut, ct).ConfigureAwait(false);
        context.Abort();
    }

    private async Task<bool> WriteEventsAsync(HttpContext context, IReadOnlyList<byte[]> events, int cutAfter, RecordedRequest? recorded, CancellationToken ct)
    {
        var body = context.Response.Body;
        var progress = stepper.BeginStream();
        for (var i = 0; i < events.Count; i++)
        {
            if (i > 0)
            {
                if (options.StreamEventInterval > TimeSpan.Zero)
                {
                    await Task.Delay(options.StreamEventInterval, ct).ConfigureAwait(false);
                }

                await stepper.WaitTurnAsync(ct).ConfigureAwait(false);
            }

            await body.WriteAsync(events[i], ct).ConfigureAwait(false);
            await body.FlushAsync(ct).ConfigureAwait(false);

            // Kestrel may accept writes silently after the peer is gone; the token is the reliable signal.
            if (ct.IsCancellationRequested)
            {
                return false;
            }

            recorded?.CountEvent();
            progress.CountEvent();
            if (i + 1 == cutAfter)
            {
                await CutAsync(context, ct).ConfigureAwait(false);
                return false;
            }
        }

        return true;
    }
}
