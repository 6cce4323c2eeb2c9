defmodule SertantaiAuth.MixProject do
  use Mix.Project
  def project, do: [app: :sertantai_auth, deps: deps()]
  defp deps, do: [{:phoenix, "~> 1.7"}, {:ecto_sql, "~> 3.10"}, {:postgrex, ">= 0.0.0"}]
end
