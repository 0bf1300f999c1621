using System.Globalization;
using System.Runtime.InteropServices;

namespace Switchyard.Simulators;

/// <summary>Standalone runner used by the benchmark: one simulator until SIGTERM or Ctrl-C.</summary>
public static class Program
{
    private const string Usage = "usage: Switchyard.Simulators [--port N] [--stream-interval-ms M] [--name X] [--chunk-words K] [--api-key KEY] [--no-record]";

    /// <summary>Parses arguments, starts the simulator and waits for a stop signal.</summary>
    public static async Task<int> Main(string[] args)
    {
        ArgumentNullException.ThrowIfNull(args);
        var port = 18090;
        var intervalMs = 0;
        var chunkWords = 1;
        var name = "sim";
        string? apiKey = null;
        var record = true;
        for (var i = 0; i < args.Length; i++)
        {
            var arg = args[i];
            string Next() => ++i < args.Length ? args[i] : throw new ArgumentException($"{arg} needs a value");
            try
            {
                switch (arg)
                {
                    case "--port": port = int.Parse(Next(), CultureInfo.InvariantCulture); break;
                    case "--stream-interval-ms": intervalMs = int.Parse(Next(), CultureInfo.InvariantCulture); break;
                    case "--chunk-words": chunkWords = int.Parse(Next(), CultureInfo.InvariantCulture); break;
                    case "--name": name = Next(); break;
                    case "--api-key": apiKey = Next(); break;
                    case "--no-record": record = false; break;
                    case "-h" or "--help": Console.WriteLine(Usage); return 0;
                    default: throw new ArgumentException($"unknown argument {arg}");
                }
            }
            catch (Exception ex) when (ex is ArgumentException or FormatException or OverflowException)
            {
                await Console.Error.WriteLineAsync(ex.Message + Environment.NewLine + Usage).ConfigureAwait(false);
                return 2;
            }
        }

        var stop = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        void OnSignal(PosixSignalContext context)
        {
            context.Cancel = true; // shut down cleanly instead of being killed mid-response
            stop.TrySetResult();
        }

        using var sigterm = PosixSignalRegistration.Create(PosixSignal.SIGTERM, OnSignal);
        using var sigint = PosixSignalRegistration.Create(PosixSignal.SIGINT, OnSignal);

        await using var simulator = await OpenAiSimulator.StartAsync(new SimulatorOptions
        {
            Port = port,
            Name = name,
            RequiredApiKey = apiKey,
            StreamEventInterval = TimeSpan.FromMilliseconds(intervalMs),
            StreamChunkWords = chunkWords,
            RecordRequests = record,
        }).ConfigureAwait(false);

        Console.WriteLine($"listening on {simulator.BaseUrl}");
        await stop.Task.ConfigureAwait(false);
        return 0;
    }
}
