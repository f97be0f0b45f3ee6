{{/* The chart name, or nameOverride. */}}
{{- define "jibri-pod-controller.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/*
The name of every object the chart creates: fullnameOverride, else the release name,
followed by the chart name unless the release name already contains it. Kubernetes
limits names used as DNS labels to 63 characters.
*/}}
{{- define "jibri-pod-controller.fullname" -}}
{{- if .Values.fullnameOverride }}
{{- .Values.fullnameOverride | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- $name := default .Chart.Name .Values.nameOverride }}
{{- if contains $name .Release.Name }}
{{- .Release.Name | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- printf "%s-%s" .Release.Name $name | trunc 63 | trimSuffix "-" }}
{{- end }}
{{- end }}
{{- end }}

{{/* Chart name and version, for the helm.sh/chart label. */}}
{{- define "jibri-pod-controller.chart" -}}
{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/* Labels on every object. */}}
{{- define "jibri-pod-controller.labels" -}}
helm.sh/chart: {{ include "jibri-pod-controller.chart" . }}
{{ include "jibri-pod-controller.selectorLabels" . }}
app.kubernetes.io/version: {{ .Values.image.tag | default .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
{{- end }}

{{/* Labels that select the operator pods; they must never change after install. */}}
{{- define "jibri-pod-controller.selectorLabels" -}}
app.kubernetes.io/name: {{ include "jibri-pod-controller.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end }}

{{/* The ServiceAccount the operator runs as. */}}
{{- define "jibri-pod-controller.serviceAccountName" -}}
{{- if .Values.serviceAccount.create }}
{{- default (include "jibri-pod-controller.fullname" .) .Values.serviceAccount.name }}
{{- else }}
{{- required "serviceAccount.name is required when serviceAccount.create is false" .Values.serviceAccount.name }}
{{- end }}
{{- end }}

{{/* The leader election Lease's name. */}}
{{- define "jibri-pod-controller.leaseName" -}}
{{- default (include "jibri-pod-controller.fullname" .) .Values.leaderElection.leaseName }}
{{- end }}

{{/*
Fails the install on settings the operator cannot run with: an unknown watch.scope,
scope "namespaces" with no namespace listed, or several replicas without leader
election, which would let every replica act on the same pools.
*/}}
{{- define "jibri-pod-controller.validate" -}}
{{- if not (has .Values.watch.scope (list "namespace" "namespaces" "cluster")) }}
{{- fail (printf "invalid watch.scope %q: expected namespace, namespaces or cluster" .Values.watch.scope) }}
{{- end }}
{{- if and (eq .Values.watch.scope "namespaces") (not .Values.watch.namespaces) }}
{{- fail "watch.namespaces is empty: list at least one namespace when watch.scope is \"namespaces\"" }}
{{- end }}
{{- if and (not .Values.leaderElection.enabled) (gt (int .Values.replicaCount) 1) }}
{{- fail "leaderElection.enabled is false but replicaCount is above 1: enable leader election or set replicaCount to 1" }}
{{- end }}
{{- end }}

{{/*
The operator's WATCH_NAMESPACES for the scope: the release namespace, the listed
namespaces joined by commas, or * for every namespace.
*/}}
{{- define "jibri-pod-controller.watchNamespaces" -}}
{{- if eq .Values.watch.scope "cluster" }}
{{- "*" }}
{{- else if eq .Values.watch.scope "namespaces" }}
{{- join "," (uniq .Values.watch.namespaces) }}
{{- else }}
{{- .Release.Namespace }}
{{- end }}
{{- end }}

{{/* config.poolDefaults.busyLabels in the operator's k=v,k2=v2 format. */}}
{{- define "jibri-pod-controller.busyLabels" -}}
{{- $pairs := list }}
{{- range $key, $value := .Values.config.poolDefaults.busyLabels }}
{{- $pairs = append $pairs (printf "%s=%s" $key $value) }}
{{- end }}
{{- join "," $pairs }}
{{- end }}
