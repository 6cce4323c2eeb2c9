import Config

config :sertantai_enforcement, SertantaiEnforcementWeb.Endpoint,
  http: [ip: {127, 0, 0, 1}, port: String.to_integer(System.get_env("PORT") || "4002")],
  check_origin: false,
  code_reloader: true
