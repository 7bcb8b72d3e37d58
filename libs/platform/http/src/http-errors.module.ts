import { Module } from '@nestjs/common';
import { APP_FILTER } from '@nestjs/core';
import { HttpErrorsFilter } from './http-errors.filter.js';

/** Registers `HttpErrorsFilter` for every route of the application (import it once, in the composition root). */
@Module({ providers: [{ provide: APP_FILTER, useClass: HttpErrorsFilter }] })
export class HttpErrorsModule {}
