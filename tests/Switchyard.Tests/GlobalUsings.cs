global using Microsoft.AspNetCore.Builder;
global using Microsoft.Extensions.DependencyInjection;
global using Microsoft.Extensions.Hosting;
global using Microsoft.Extensions.Logging;
global using Switchyard.Core.Pipeline;
global using Switchyard.Gateway.Endpoints;
global using Switchyard.Gateway.Hosting;
