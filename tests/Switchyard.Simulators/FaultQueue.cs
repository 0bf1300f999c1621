namespace Switchyard.Simulators;

/// <summary>Scripted faults in arrival order; each request takes the first one whose path filter matches.</summary>
internal sealed class FaultQueue
{
    private readonly List<SimulatedFault> _faults = [];
    private volatile int _count;

    public int Count => _count;

    public void Enqueue(SimulatedFault fault)
    {
        ArgumentNullException.ThrowIfNull(fault);
        lock (_faults)
        {
            _faults.Add(fault);
            _count = _faults.Count;
        }
    }

    public void Clear()
    {
        lock (_faults)
        {
            _faults.Clear();
            _count = 0;
        }
    }

    public SimulatedFault? TakeFor(string path)
    {
        // The unlocked check keeps the common no-fault case free of contention.
        if (_count == 0)
        {
            return null;
        }

        lock (_faults)
        {
            for (var i = 0; i < _faults.Count; i++)
            {
                var fault = _faults[i];
                if (fault.PathContains is null || path.Contains(fault.PathContains, StringComparison.OrdinalIgnoreCase))
                {
                    _faults.RemoveAt(i);
                    _count = _faults.Count;
                    return fault;
                }
            }
        }

        return null;
    }
}
