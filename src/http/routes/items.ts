/** Items: named, versioned ProblemSpecs that runs can be created from (`POST /v1/runs {item_id}`). */
import type { FastifyPluginAsync } from "fastify";
import type { ZodTypeProvider } from "fastify-type-provider-zod";
import * as z from "zod";
import type { Item } from "../../app/registry.js";
import type { ProblemSpec } from "../../core/models/spec.js";
import type { ServiceContext } from "../context.js";
import { HttpError } from "../problem.js";
import { ItemBody, ItemListResponse, ItemParams, ItemResponse, PageQuery } from "../schemas.js";

const notFound = (id: string) => new HttpError(404, "E_ITEM_NOT_FOUND", `no item ${id}`);
const toResponse = (item: Item) => ({ ...item, spec: item.spec as unknown as Record<string, unknown> });

export const itemRoutes =
  (ctx: ServiceContext): FastifyPluginAsync =>
  async (rawApp) => {
    const app = rawApp.withTypeProvider<ZodTypeProvider>();
    const tags = ["items"];

    app.post(
      "/v1/items",
      {
        schema: {
          tags,
          summary: "save a spec as an item (version 1)",
          body: ItemBody,
          response: { 201: ItemResponse },
        },
      },
      async (request, reply) =>
        reply
          .code(201)
          .send(
            toResponse(await ctx.registry.createItem(request.body.name, request.body.spec as ProblemSpec)),
          ),
    );

    app.get(
      "/v1/items",
      {
        schema: {
          tags,
          summary: "list items, newest first",
          querystring: PageQuery,
          response: { 200: ItemListResponse },
        },
      },
      async (request) => {
        const page = await ctx.registry.listItems(request.query);
        return { items: page.entries.map(toResponse), next_cursor: page.next_cursor };
      },
    );

    app.get(
      "/v1/items/:id",
      {
        schema: {
          tags,
          summary: "an item's latest version",
          params: ItemParams,
          response: { 200: ItemResponse },
        },
      },
      async (request) => {
        const item = await ctx.registry.getItem(request.params.id);
        if (item === null) throw notFound(request.params.id);
        return toResponse(item);
      },
    );

    app.put(
      "/v1/items/:id",
      {
        schema: {
          tags,
          summary: "save a new version of an item",
          params: ItemParams,
          body: ItemBody,
          response: { 200: ItemResponse },
        },
      },
      async (request) => {
        const item = await ctx.registry.updateItem(
          request.params.id,
          request.body.name,
          request.body.spec as ProblemSpec,
        );
        if (item === null) throw notFound(request.params.id);
        return toResponse(item);
      },
    );

    app.delete(
      "/v1/items/:id",
      {
        schema: {
          tags,
          summary: "delete an item and its versions (runs made from it stay)",
          params: ItemParams,
          response: { 204: z.null().describe("deleted; no content") },
        },
      },
      async (request, reply) => {
        if (!(await ctx.registry.deleteItem(request.params.id))) throw notFound(request.params.id);
        return reply.code(204).send(null);
      },
    );
  };
