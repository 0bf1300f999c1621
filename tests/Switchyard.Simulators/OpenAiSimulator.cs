using System.Net;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Switchyard.Simulators;

/// <summary>A fake OpenAI-format upstream on a loopback port, with request recording, scripted faults and stream stepping.</summary>
public sealed class OpenAiSimulator : IAsyncDisposable
{
    private readonly WebApplication _app;
    private readonly CancellationTokenSource _stopping;
    private readonly RequestLog _log;
    private readonly FaultQueue _faults;
    private readonly StreamStepper _stepper;
    private int _disposed;

    private OpenAiSimulator(WebApplication app, CancellationTokenSource stopping, RequestLog log, FaultQueue faults, StreamStepper stepper, SimulatorOptions options, int port)
    {
        _app = app;
        _stopping = stopping;
        _log = log;
        _faults = faults;
        _stepper = stepper;
        Options = options;
        Port = port;
        BaseUrl = new Uri($"http://127.0.0.1:{port}/v1");
    }

    /// <summary>The settings this instance runs with.</summary>
    public SimulatorOptions Options { get; }

    /// <summary>The bound loopback port.</summary>
    public int Port { get; }

    /// <summary><c>http://127.0.0.1:{port}/v1</c>, without a trailing slash.</summary>
    public Uri BaseUrl { get; }

    /// <summary>Snapshot of the recorded requests in arrival order.</summary>
    public IReadOnlyList<RecordedRequest> Requests => _log.Snapshot();

    /// <summary>Faults still waiting for a matching request.</summary>
    public int PendingFaults => _faults.Count;

    /// <summary>When true, each stream event after the first waits for <see cref="ReleaseNextEvent"/>.</summary>
    public bool StepMode
    {
        get => _stepper.StepMode;
        set => _stepper.StepMode = value;
    }

    /// <summary>Starts a simulator on 127.0.0.1 and returns once it accepts connections.</summary>
    public static async Task<OpenAiSimulator> StartAsync(SimulatorOptions? options = null, CancellationToken ct = default)
    {
        options ??= new SimulatorOptions();
        ArgumentOutOfRangeException.ThrowIfNegative(options.Port);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(options.Port, IPEndPoint.MaxPort);
        ArgumentOutOfRangeException.ThrowIfLessThan(options.StreamChunkWords, 1);

        // The empty builder reads no appsettings or environment, so a test project's own
        // configuration (Kestrel endpoints, URLs, log levels) cannot leak into the simulator.
        var builder = WebApplication.CreateEmptyBuilder(new WebApplicationOptions { ApplicationName = typeof(OpenAiSimulator).Assembly.GetName().Name });
        builder.WebHost.UseKestrelCore().ConfigureKestrel(kestrel =>
        {
            kestrel.AddServerHeader = false;
            kestrel.Listen(IPAddress.Loopback, options.Port);
        });
        builder.Logging.AddConsole().SetMinimumLevel(LogLevel.Warning);
        builder.Services.AddSingleton<IHostLifetime, PassiveHostLifetime>();
        builder.Services.Configure<HostOptions>(host => host.ShutdownTimeout = TimeSpan.FromSeconds(5));

        var app = builder.Build();
        var stopping = new CancellationTokenSource();
        var log = new RequestLog();
        var faults = new FaultQueue();
        var stepper = new StreamStepper();
        var pipeline = new RequestPipeline(options, log, faults, new ReplyWriter(options, stepper), stopping.Token);
        app.Run(pipeline.HandleAsync);

        try
        {
            await app.StartAsync(ct).ConfigureAwait(false);
        }
        catch
        {
            await app.DisposeAsync().ConfigureAwait(false);
            stopping.Dispose();
            throw;
        }

        var address = app.Services.GetRequiredService<IServer>().Features.GetRequiredFeature<IServerAddressesFeature>().Addresses.First();
        return new OpenAiSimulator(app, stopping, log, faults, stepper, options, new Uri(address).Port);
    }

    /// <summary>Forgets recorded requests and the current stream's event count.</summary>
    public void ClearRequests()
    {
        _log.Clear();
        _stepper.Reset();
    }

    /// <summary>Completes when request number <paramref name="index"/> (0-based, since the last clear) has finished, normally or aborted.</summary>
    public Task<RecordedRequest> WaitForRequestCompletionAsync(int index, TimeSpan timeout) => _log.WaitForCompletionAsync(index, timeout);

    /// <summary>Adds a fault for the next matching request (first in, first out).</summary>
    public void Enqueue(SimulatedFault fault) => _faults.Enqueue(fault);

    /// <summary>Makes the next <paramref name="count"/> requests fail with <paramref name="status"/> and optional retry hints.</summary>
    public void FailNext(int count, int status, string? retryAfterSeconds = null, string? retryAfterMs = null)
    {
        for (var i = 0; i < count; i++)
        {
            _faults.Enqueue(SimulatedFault.Error(status, retryAfterSeconds, retryAfterMs));
        }
    }

    /// <summary>Drops all faults not yet consumed.</summary>
    public void ClearFaults() => _faults.Clear();

    /// <summary>In step mode, lets the waiting stream write its next event.</summary>
    public void ReleaseNextEvent() => _stepper.ReleaseNext();

    /// <summary>Completes once the most recently started stream has flushed at least <paramref name="count"/> events.</summary>
    public Task WaitForEventsSentAsync(int count, TimeSpan timeout) => _stepper.WaitForEventsAsync(count, timeout);

    /// <summary>Ends hanging or stepped requests and stops the server.</summary>
    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }

        await _stopping.CancelAsync().ConfigureAwait(false);
        try
        {
            await _app.StopAsync(CancellationToken.None).ConfigureAwait(false);
        }
        finally
        {
            await _app.DisposeAsync().ConfigureAwait(false);
            _stopping.Dispose();
        }
    }
}
